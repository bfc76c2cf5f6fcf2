import { AutopilotError } from '../../lib/errors.ts';

/**
 * What a conversion could not write. Senders of the ecosystem protocols
 * (Prometheus, Promtail, Alloy) never retry a 4xx other than 429 and always
 * retry a 5xx, so items that can never be written are left out, the rest is
 * written, and the request is then answered 400 with this error: the sender
 * logs it and moves on instead of retrying the same items forever (which a
 * 5xx or 429 would cause, say while a WAL replays samples past retention).
 * That is the remote-write spec's partial write (1.0 "Invalid Samples", 2.0
 * "Partial Write": never a 2xx when part of the data was not written, 400
 * for data that can never be written).
 */
export interface Rejections {
  /** Items in the request. */
  total: number;
  /** Items whose timestamp is older than the raw tables keep, or more than a day ahead. */
  outOfWindow: number;
  /** Items that break a name or label rule. */
  invalid: number;
  /** Items whose content contradicts itself: native histograms whose count, buckets or schema Prometheus would refuse. */
  inconsistent?: number;
  /** A few examples of what was wrong, for the error's details. */
  problems: string[];
}

export const MAX_PROBLEMS = 10;

export function noteProblem(r: Rejections, problem: string): void {
  if (r.problems.length < MAX_PROBLEMS && !r.problems.includes(problem)) r.problems.push(problem);
}

/** The 400 to answer once the written part is durable; undefined when everything was written. */
export function partialWriteError(what: string, r: Rejections): AutopilotError | undefined {
  const inconsistent = r.inconsistent ?? 0;
  const rejected = r.outOfWindow + r.invalid + inconsistent;
  if (rejected === 0) return undefined;
  const reasons = [
    r.outOfWindow > 0 ? `${r.outOfWindow} outside the accepted time window (the last 30 days to 1 day ahead)` : '',
    r.invalid > 0 ? `${r.invalid} with an invalid name or labels` : '',
    inconsistent > 0 ? `${inconsistent} native histograms whose count, buckets or schema do not agree` : '',
  ].filter(Boolean);
  return new AutopilotError(
    'invalid_records',
    `${rejected} of ${r.total} ${what} were not written: ${reasons.join(', ')}; the other ${r.total - rejected} were written`,
    { details: r.problems },
  );
}
