/**
 * Severities: one scale, lowest first, and every mapping onto it.
 *
 * Three vocabularies meet here. The detector grades anomalies medium, high
 * or critical, and incidents and their signals carry the same three. An
 * analysis (the model's or the rules') and a notification target's filter add
 * `low` below them. Alerts speak Alertmanager's words (warning, critical,
 * info, page, …): a tenant's alert rule raises warning or critical, and
 * Alertmanager passes on whatever its `severity` label says. The functions at
 * the end read those words onto the scale, each for its own purpose.
 */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The detector's grades: anomalies, incidents, correlation signals, anomaly rules' minimum. */
export const ANOMALY_SEVERITIES = ['medium', 'high', 'critical'] as const satisfies readonly Severity[];
export type AnomalySeverity = (typeof ANOMALY_SEVERITIES)[number];

/** What an alert rule raises, as Alertmanager's `severity` label spells it. */
export const ALERT_RULE_SEVERITIES = ['warning', 'critical'] as const;
export type AlertRuleSeverity = (typeof ALERT_RULE_SEVERITIES)[number];

export const isSeverity = (word: string): word is Severity => (SEVERITIES as readonly string[]).includes(word);

/**
 * Where a severity Autopilot wrote stands: low 0 up to critical 3. A word
 * not on the scale (none is written; records are strings on the wire) counts
 * as low, so it never outranks a real one.
 */
export const scaleRank = (severity: string): number => Math.max(0, SEVERITIES.indexOf(severity as Severity));

/** The more severe of two by `scaleRank`; the first on a tie. */
export const moreSevere = <T extends string>(a: T, b: T): T => (scaleRank(b) > scaleRank(a) ? b : a);

/** Alertmanager's usual words that are not on the scale, and where a notification filter places them. */
const ALERTMANAGER_WORDS = new Map<string, Severity>([
  ['info', 'low'],
  ['none', 'low'],
  ['warning', 'medium'],
  ['warn', 'medium'],
  ['error', 'high'],
  ['page', 'high'],
]);

/**
 * Rank of a severity however an analysis or an alert spells it, for
 * notification filters and Slack's colours: any case, Alertmanager's words
 * onto the scale, and a word it cannot read above critical (4), so a filter
 * never silently drops something it cannot read.
 */
export function severityRank(word: string): number {
  const s = word.toLowerCase();
  const known = isSeverity(s) ? s : ALERTMANAGER_WORDS.get(s);
  return known === undefined ? SEVERITIES.length : SEVERITIES.indexOf(known);
}

/**
 * A firing alert as a correlation signal, on the detector's grades: a
 * warning (or any word it cannot read) is worth a high anomaly; critical,
 * page and emergency a critical one; info, none and low a medium one.
 */
export function alertSignalSeverity(word: string): AnomalySeverity {
  const s = word.toLowerCase();
  if (s === 'critical' || s === 'page' || s === 'emergency') return 'critical';
  if (s === 'info' || s === 'none' || s === 'low') return 'medium';
  return 'high';
}

/** A rule alert as a notification: critical stays critical, anything else (a warning) is sent as high. */
export const ruleAlertNoticeSeverity = (severity: string): Severity => (severity === 'critical' ? 'critical' : 'high');
