import { Cron } from 'croner';
import { z } from 'zod';
import { badRequest } from '../lib/errors.ts';
import { ALERT_RULE_SEVERITIES } from '../lib/severity.ts';
import { durationText } from './duration.ts';
import { checkUrlShape } from './url-guard.ts';

/**
 * Scheduled jobs as a tenant writes them through `/v1/jobs`: a cron schedule,
 * a kind and its parameters. The scheduler (scheduler/) runs them; this file
 * is the contract both it and the gateway read. Objects are strict, durations
 * are text (`10s`, `5m`) as written, and every URL is checked for its shape
 * here and again, resolved, before each request (tenant-config/url-guard.ts).
 *
 * - http_probe: GET or HEAD a URL, like Prometheus's blackbox exporter;
 *   writes probe_success, probe_duration_ms and probe_http_status for a service.
 * - status_page: a third-party status page (Atlassian Statuspage, incident.io,
 *   an RSS/Atom feed, or an HTML page read by the model); its changes become
 *   signals for the services that depend on the provider.
 * - scrape: crawl from start URLs, robots.txt respected, rate-limited per
 *   domain; pages (text and links) are stored, and optionally extracted.
 * - extract: a page's text into the JSON the job's schema describes, through
 *   the model, with a quality score.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const JOB_KINDS = ['http_probe', 'status_page', 'scrape', 'extract'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** What happens to a tick whose job is still running: skipped (recorded as such), or run once the running one ends. */
export const OVERLAP_POLICIES = ['skip', 'queue'] as const;

// Same limits as the gateway's inputs (gateway/records.ts), so anything a job names can be a series label.
const service = z.string().min(1, 'must not be empty').max(256);
const url = z
  .string()
  .max(2048)
  .superRefine((u, ctx) => {
    try {
      // Shape only (scheme, credentials, refused literals); loopback is judged with the deployment's setting at run time.
      checkUrlShape(u, { allowLoopback: true });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
const headers = z
  .record(
    z.string().regex(HEADER_NAME, 'not a valid HTTP header name'),
    z
      .string()
      .max(4096)
      .regex(/^[^\r\n\0]*$/, 'header values cannot contain CR, LF or NUL'),
  )
  .refine((h) => Object.keys(h).length <= 20, 'at most 20 headers');
const labelValues = z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/, 'a Prometheus label name'), z.string().max(1024));
/** A JSON Schema object, as Ollama's `format` takes it; checked for being one when the job is saved. */
const jsonSchema = z
  .record(z.string(), z.unknown())
  .refine((s) => JSON.stringify(s).length <= 32_768, 'at most 32 KiB of schema')
  .superRefine((s, ctx) => {
    try {
      z.fromJSONSchema(s as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a JSON Schema this server can validate against: ${(err as Error).message}` });
    }
  });
const model = z.string().min(1).max(200);

const extraction = z.strictObject({
  schema: jsonSchema,
  /** What to look for, in words; the model reads it with the page. */
  instructions: z.string().max(4000).optional(),
  /** Ollama model; OLLAMA_MODEL when absent. */
  model: model.optional(),
  /** Characters of page text given to the model. */
  max_chars: z.number().int().min(500).max(200_000).default(20_000),
});

export const httpProbeParams = z.strictObject({
  url,
  method: z.enum(['GET', 'HEAD']).default('GET'),
  /** The service the probe's series belong to (its `service` label). */
  service,
  timeout: durationText(2 * MINUTE, 100).default('10s'),
  /** Status codes that count as success; any 2xx when absent. */
  expected_status: z.array(z.number().int().min(100).max(599)).min(1).max(20).optional(),
  /** A regular expression the body must match (GET only). */
  body_match: z
    .string()
    .max(1000)
    .superRefine((re, ctx) => {
      try {
        new RegExp(re);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `not a regular expression: ${(err as Error).message}` });
      }
    })
    .optional(),
  headers: headers.optional(),
  /** Extra labels on the probe's series. */
  labels: labelValues.optional(),
  /**
   * Failed probes in a row that fire the probe's alert (ProbeFailed, for the
   * service: a correlation signal and a notification); resolved by the next
   * success. 0: points only. A down /health is the clearest signal there is,
   * and a series that never moved is one the detector rightly waits on.
   */
  alert_after: z.number().int().min(0).max(100).default(3),
  severity: z.enum(ALERT_RULE_SEVERITIES).default('critical'),
});

export const STATUS_FORMATS = ['auto', 'statuspage', 'incident_io', 'feed', 'html'] as const;

export const statusPageParams = z.strictObject({
  /** The provider's name as incidents and signals show it ("Stripe", "GitHub"). */
  provider: z.string().trim().min(1).max(100),
  /**
   * Statuspage: the page's base URL or its /api/v2/summary.json; incident.io:
   * the page's /proxy/<host> widget URL or the page itself; feed: the RSS or
   * Atom URL; html: any page, read by the model.
   */
  url,
  format: z.enum(STATUS_FORMATS).default('auto'),
  /**
   * The tenant's services that depend on this provider, and on which of its
   * components (by name, as the page shows them; none: any component, and
   * the page's incidents). A degradation is a signal for each of them.
   */
  dependents: z
    .array(z.strictObject({ service, components: z.array(z.string().min(1).max(200)).max(100).optional() }))
    .max(100)
    .default([]),
  timeout: durationText(2 * MINUTE, 100).default('15s'),
  /** For format html: the Ollama model; OLLAMA_MODEL when absent. */
  model: model.optional(),
  headers: headers.optional(),
});

export const scrapeParams = z.strictObject({
  start_urls: z.array(url).min(1).max(100),
  /** Links followed from the start pages: 0 fetches the start pages only. */
  max_depth: z.number().int().min(0).max(10).default(1),
  max_pages: z.number().int().min(1).max(10_000).default(50),
  /** Only follow links on the start URLs' own hosts. */
  same_domain: z.boolean().default(true),
  /** Requests per second to one domain. */
  rate_per_domain: z.number().positive().max(100).default(2),
  concurrency: z.number().int().min(1).max(32).default(2),
  /** Only follow links whose URL matches this regular expression. */
  include: z.string().max(1000).optional(),
  timeout: durationText(2 * MINUTE, 100).default('15s'),
  /** Extract every fetched page into this schema. */
  extract: extraction.optional(),
  headers: headers.optional(),
});

export const extractParams = extraction.extend({ url, timeout: durationText(2 * MINUTE, 100).default('15s'), headers: headers.optional() });

const common = {
  name: z.string().trim().min(1).max(100),
  /** Cron: 5 fields (minute first) or 6 (seconds first), or a nickname such as @hourly; checked by croner. */
  schedule: z.string().trim().min(1).max(200),
  /** IANA time zone the schedule is read in. */
  timezone: z.string().default('UTC'),
  enabled: z.boolean().default(true),
  overlap: z.enum(OVERLAP_POLICIES).default('skip'),
  /** A run still going after this is stopped and recorded as timed out. */
  timeout: durationText(HOUR, 1000).default('5m'),
};

export const jobSchema = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({ ...common, kind: z.literal('http_probe'), params: httpProbeParams }),
      z.strictObject({ ...common, kind: z.literal('status_page'), params: statusPageParams }),
      z.strictObject({ ...common, kind: z.literal('scrape'), params: scrapeParams }),
      z.strictObject({ ...common, kind: z.literal('extract'), params: extractParams }),
    ],
    { error: (iss) => (iss.code === 'invalid_union' ? `must be one of ${JOB_KINDS.join(', ')}` : undefined) },
  )
  .superRefine((job, ctx) => {
    const why = scheduleError(job.schedule, job.timezone);
    if (why) ctx.addIssue({ code: 'custom', path: why.path, message: why.message });
    if (job.kind === 'http_probe' && job.params.method === 'HEAD' && job.params.body_match !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['params', 'body_match'], message: 'a HEAD probe has no body to match' });
    }
  });

export type Job = z.infer<typeof jobSchema>;
export type JobOf<K extends JobKind> = Extract<Job, { kind: K }>;
export type HttpProbeParams = z.infer<typeof httpProbeParams>;
export type StatusPageParams = z.infer<typeof statusPageParams>;
export type ScrapeParams = z.infer<typeof scrapeParams>;
export type ExtractParams = z.infer<typeof extractParams>;
export type Extraction = z.infer<typeof extraction>;

/** Why a schedule or time zone is refused, or undefined. */
function scheduleError(schedule: string, timezone: string): { path: string[]; message: string } | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    return { path: ['timezone'], message: `'${timezone}' is not an IANA time zone (such as UTC or Europe/Paris)` };
  }
  const fields = schedule.split(/\s+/).length;
  if (!schedule.startsWith('@') && fields !== 5 && fields !== 6) {
    return { path: ['schedule'], message: `a cron expression has 5 fields (minute hour day month weekday) or 6 (seconds first), not ${fields}` };
  }
  try {
    const cron = new Cron(schedule, { timezone, paused: true });
    if (cron.nextRun() === null) return { path: ['schedule'], message: 'the schedule never fires' };
  } catch (err) {
    return { path: ['schedule'], message: `not a cron expression: ${(err as Error).message}` };
  }
  return undefined;
}

/** A missing field says so, rather than zod's "expected string, received undefined". */
const parseErrors = (iss: { code: string; input?: unknown }) => (iss.code === 'invalid_type' && iss.input === undefined ? 'is required' : undefined);

/**
 * Parses an API body into a job, defaults filled, or throws `bad_request`
 * listing every problem as `{path, message}`. URLs are held to the
 * deployment's loopback rule (NOTIFY_ALLOW_LOOPBACK) here, as targets are.
 */
export function parseJob(body: unknown, opts: { allowLoopback: boolean } = { allowLoopback: false }): Job {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('invalid job: expected one JSON object');
  const parsed = jobSchema.safeParse(body, { error: parseErrors });
  const details = parsed.success ? jobProblems(parsed.data, opts) : parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  if (parsed.success && details.length === 0) return parsed.data;
  const text = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
  throw badRequest(`invalid job: ${text}`, details);
}

/** What a job read back from the API shows for a header value: the values are secrets (tokens). */
export const REDACTED_HEADER = '***';

/** A job fit to show back: header values hidden. */
export function redactJob(job: Job): Job {
  const headers = job.params.headers;
  if (!headers) return job;
  return { ...job, params: { ...job.params, headers: Object.fromEntries(Object.keys(headers).map((k) => [k, REDACTED_HEADER])) } } as Job;
}

/** Problems the schema cannot see: loopback URLs where refused, and a hidden header value sent back as if it were one. */
function jobProblems(job: Job, opts: { allowLoopback: boolean }): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const urls = job.kind === 'scrape' ? job.params.start_urls.map((u, i) => [`params.start_urls.${i}`, u] as const) : [['params.url', job.params.url] as const];
  for (const [path, u] of urls) {
    try {
      checkUrlShape(u, opts);
    } catch (err) {
      problems.push({ path, message: (err as Error).message });
    }
  }
  for (const [name, value] of Object.entries(job.params.headers ?? {})) {
    if (value === REDACTED_HEADER)
      problems.push({ path: `params.headers.${name}`, message: 'the hidden form shown on read was sent back; send the full value again' });
  }
  return problems;
}
