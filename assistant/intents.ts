/**
 * The common questions the assistant answers without a model, recognised in
 * plain English: what is wrong with a service (or with anything), what
 * changed, which incidents are open. Case and punctuation do not matter.
 * A service is one of the tenant's known services found in the question's
 * words (the longest when several match), never a word guessed from the
 * grammar: a question about a name Autopilot does not know is left to the
 * model. A time ("since 14:00", "today", "in the last 3 hours") is kept as
 * text the tools' range parser reads (time-range.ts), UTC.
 */
export type Intent =
  /** service null: the whole tenant ("what is wrong?"). */
  | { kind: 'service_health'; service: string | null; since: string | null }
  /** service null: every service. */
  | { kind: 'what_changed'; service: string | null; since: string | null }
  | { kind: 'open_incidents'; service: string | null };

const OPEN_INCIDENTS = [
  /\b(?:list|show|any|what|which|are there|get|give)\b.*\b(?:open|active|ongoing|current|unresolved)\b.*\bincidents?\b/,
  /\bincidents?\b.*\b(?:are|is)\b(?: \w+)? (?:open|active|ongoing|unresolved|going on)\b/,
  /^(?:open|active|ongoing|current) incidents?\b/,
  /^(?:list|show)(?: me)?(?: all)?(?: the)? incidents?$/,
];

const WHAT_CHANGED = [
  /\bwhat (?:has |have )?(?:changed|changes)\b/,
  /\b(?:any|recent|latest) changes\b/,
  /\bwhat (?:was|were|got|has been|have been) (?:deployed|released|shipped|changed)\b/,
];

/** "What is wrong with …", "why is … slow", "… status": a service's health. */
const HEALTH = [
  /\bwhat(?: s| is)? (?:wrong|going on|happening|broken|up|the (?:problem|issue|matter)) with\b/,
  /\bwhy (?:is|are|does|do|did|was|were)\b.*\b(?:slow|slower|sluggish|failing|fail|failed|erroring|errors?|down|broken|timing out|timeouts?|degraded|unhealthy|crashing|latency|laggy|5\d\d s?)\b/,
  /\b(?:status|health)\b/,
  /\bhow (?:is|are|s) .*\b(?:doing|looking|behaving)\b/,
  /\bis .*\b(?:healthy|ok|okay|up|down|slow|broken|failing)\b/,
];

/** The same about nothing in particular: the tenant as a whole. */
const GENERAL_HEALTH = [
  /^(?:so )?what(?: s| is)? (?:wrong|going on|happening|broken)(?: (?:right )?now| today| here| with (?:everything|anything|the system|things|production|prod|us|our services))?$/,
  /^why is (?:everything|it|the system|prod|production|the site|the app) (?:so )?(?:slow|down|broken|failing|erroring)(?: .*)?$/,
  /^(?:what s |what is )?(?:the )?(?:overall |system |current )?(?:status|health)(?: of (?:everything|the system|production|prod))?$/,
];

/** The question as lower-case words: punctuation gone, a colon kept only inside a clock time. */
export function words(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9:]+/g, ' ')
    .replace(/(?<!\d):|:(?!\d)/g, ' ')
    .replace(/ +/g, ' ')
    .trim();
}

/** The known service the question names: the longest match on whole words (`payments-api` over `payments`). */
export function findService(question: string, services: readonly string[]): string | null {
  const text = ` ${words(question)} `;
  let found: string | null = null;
  for (const service of services) {
    const name = words(service);
    if (name && text.includes(` ${name} `) && (found === null || name.length > words(found).length)) found = service;
  }
  return found;
}

const NUMBERS: Record<string, number> = { a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, twelve: 12, 'twenty four': 24 };
const UNITS: Record<string, string> = { minute: 'm', min: 'm', mins: 'm', m: 'm', hour: 'h', hr: 'h', hrs: 'h', h: 'h', day: 'd', d: 'd', week: 'w' };

/** The time the question starts from, as time-range.ts reads it, or null for the answer's default. */
export function findSince(question: string): string | null {
  const q = words(question);
  const clock = /\bsince (\d{1,2}):(\d{2})\b/.exec(q);
  if (clock) return `${clock[1]!.padStart(2, '0')}:${clock[2]}`;
  const meridiem = /\bsince (\d{1,2}) ?(am|pm)\b/.exec(q);
  if (meridiem) {
    const hour = (Number(meridiem[1]) % 12) + (meridiem[2] === 'pm' ? 12 : 0);
    if (hour < 24) return `${String(hour).padStart(2, '0')}:00`;
  }
  const span = /\b(?:last|past) ?(\d+|an?|one|two|three|four|five|six|twelve|twenty four)? (minute|min|mins|hour|hr|hrs|h|day|d|week)s?\b/.exec(q);
  const ago = /\b(\d+|an?|one|two|three|four|five|six|twelve|twenty four) (minute|min|mins|hour|hr|hrs|h|day|d|week)s? ago\b/.exec(q);
  const compact = /\b(?:last|past) (\d+)(m|h|d)\b/.exec(q);
  const relative = span ?? ago ?? compact;
  if (relative) {
    const n = relative[1] === undefined ? 1 : (NUMBERS[relative[1]] ?? Number(relative[1]));
    const unit = UNITS[relative[2]!]!;
    return unit === 'w' ? `${n * 7}d` : `${n}${unit}`;
  }
  if (/\b(?:today|this morning|since midnight)\b/.test(q)) return 'today';
  if (/\byesterday\b/.test(q)) return 'yesterday';
  return null;
}

/** The intent of a common question, or null when the rules cannot answer it (the model may). */
export function recognise(question: string, services: readonly string[]): Intent | null {
  const q = words(question);
  if (!q) return null;
  const service = findService(question, services);
  if (OPEN_INCIDENTS.some((p) => p.test(q))) return { kind: 'open_incidents', service };
  if (WHAT_CHANGED.some((p) => p.test(q))) return { kind: 'what_changed', service, since: findSince(question) };
  if (service !== null && HEALTH.some((p) => p.test(q))) return { kind: 'service_health', service, since: findSince(question) };
  // Minus its time, is it about nothing in particular ("what's wrong?")? Then about the tenant as a whole.
  const bare = q.replace(/\s*\b(?:since|in the|over the|during the|for the)\b.*$/, '').trim();
  if (GENERAL_HEALTH.some((p) => p.test(bare))) return { kind: 'service_health', service: null, since: findSince(question) };
  return null;
}
