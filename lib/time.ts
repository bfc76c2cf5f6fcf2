export const DAY_MS = 24 * 3600 * 1000;

/**
 * How far ahead of our clock an event time may be, on every path that takes
 * one (JSON, remote-write, Loki, Alertmanager, the sink): senders' clocks
 * drift, but more than a day ahead is a clock problem, not data.
 */
export const MAX_FUTURE_MS = DAY_MS;

/**
 * Epoch milliseconds as ISO 8601 text in UTC, in the three forms the
 * outputs use. Each form is someone's contract (a webhook receiver's parser,
 * a prompt a model was tuned on, Slack's fallback text), so they stay apart.
 */

/** Every digit, milliseconds included (`2024-05-01T12:00:00.000Z`): for machines, such as webhook payloads. */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** Without `.000` when the milliseconds are zero (`2024-05-01T12:00:00Z`, but `…00.250Z`): text for people and models. */
export const isoTimeShort = (ms: number): string => isoTime(ms).replace('.000Z', 'Z');

/** To the second, milliseconds dropped whatever they are (`2024-05-01T12:00:00Z`): where the reader never sees more. */
export const isoTimeSeconds = (ms: number): string => isoTime(ms).replace(/\.\d{3}Z$/, 'Z');
