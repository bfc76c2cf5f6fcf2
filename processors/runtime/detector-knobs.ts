import { DEFAULT_DETECTOR, type DetectorConfig } from './detector.ts';

/**
 * Every knob of the detector, once: `autopilot detect --<name>` and the
 * processors' DETECT_<NAME> variables read this table, so the backtest and
 * the live detector take the same settings under the same names, checked
 * the same way.
 */
type Rule = 'count' | 'whole' | 'positive' | 'non-negative' | 'probability' | 'rate' | 'tail';

interface Knob {
  field: keyof DetectorConfig;
  rule: Rule;
  help: string;
}

export const KNOBS: Record<string, Knob> = {
  'alarm-p': { field: 'alarmP', rule: 'probability', help: 'p-value under which a sample is an anomaly' },
  'high-p': { field: 'highP', rule: 'probability', help: 'p-value at or under which an anomaly is high' },
  'critical-p': { field: 'criticalP', rule: 'probability', help: 'p-value at or under which an anomaly is critical' },
  'min-samples': { field: 'minSamples', rule: 'count', help: 'samples learned before the first verdict' },
  'level-rate': { field: 'levelRate', rule: 'rate', help: 'how fast the level follows, per sample' },
  'season-rate': { field: 'seasonRate', rule: 'rate', help: 'how fast an hour-of-day offset learns, per sample in it; 0 = none' },
  'scale-rate': { field: 'scaleRate', rule: 'rate', help: 'how fast the scale follows, per sample' },
  huber: { field: 'huber', rule: 'positive', help: 'deviations past this many scales are clipped before they are learned' },
  'shift-after': { field: 'shiftAfter', rule: 'count', help: 'surprising samples in a row, one side, that move the level' },
  'shift-surprise': { field: 'shiftSurprise', rule: 'positive', help: 'the surprise, in scales, that counts towards a shift or a lasting event' },
  'sustain-after': { field: 'sustainAfter', rule: 'count', help: 'surprising samples in a row that report a raised event again, as sustained' },
  'min-relative-scale': { field: 'minRelativeScale', rule: 'non-negative', help: 'scale floor as a fraction of |level|' },
  'min-scale': { field: 'minScale', rule: 'non-negative', help: "scale floor in the series' own unit; 0 = none" },
  'quantum-scale': { field: 'quantumScale', rule: 'non-negative', help: 'scale floor as a fraction of the typical step between samples' },
  memory: { field: 'memory', rule: 'count', help: 'half-life, in samples, of the surprise history p-values come from' },
  'prior-weight': { field: 'priorWeight', rule: 'positive', help: 'weight, in samples, of the prior in each p-value' },
  'prior-df': { field: 'priorDf', rule: 'positive', help: "the prior's tail: Student t with this many degrees of freedom (fewer while young)" },
  refractory: { field: 'refractory', rule: 'whole', help: 'samples after an anomaly that raise no other' },
  'alarm-weight': { field: 'alarmWeight', rule: 'rate', help: 'how much an anomalous sample counts in that history, against 1' },
  'tail-quantiles': { field: 'tailQuantiles', rule: 'tail', help: 'shares A,B a power-law tail is drawn through; p past B is read off it' },
};

const RULES: Record<Rule, { text: string; ok: (n: number) => boolean }> = {
  count: { text: 'a whole number ≥ 1', ok: (n) => Number.isInteger(n) && n >= 1 },
  whole: { text: 'a whole number ≥ 0', ok: (n) => Number.isInteger(n) && n >= 0 },
  positive: { text: 'a number > 0', ok: (n) => n > 0 },
  'non-negative': { text: 'a number ≥ 0', ok: (n) => n >= 0 },
  probability: { text: 'a number in (0, 1)', ok: (n) => n > 0 && n < 1 },
  rate: { text: 'a number in [0, 1]', ok: (n) => n >= 0 && n <= 1 },
  tail: { text: 'two shares A,B with 1 > A > B > 0', ok: () => true },
};

/** One knob's text as a value, or an Error whose message says what it must be. */
function parseKnob(knob: Knob, raw: string): number | [number, number] | Error {
  const number = (x: string) => (x.trim() ? Number(x) : Number.NaN);
  if (knob.rule === 'tail') {
    const parts = raw.split(',').map(number);
    const [a, b] = parts;
    return parts.length === 2 && a! > 0 && a! < 1 && b! > 0 && b! < a! ? [a!, b!] : new Error(`must be ${RULES.tail.text}, got '${raw}'`);
  }
  const n = number(raw);
  return Number.isFinite(n) && RULES[knob.rule].ok(n) ? n : new Error(`must be ${RULES[knob.rule].text}, got '${raw}'`);
}

/**
 * The detector's settings from knob values by name (unset ones keep `base`'s).
 * A bad value throws naming it as `label(name)` spells it (`--alarm-p`, `DETECT_ALARM_P`).
 */
export function detectorConfigFrom(values: Record<string, string | undefined>, label: (name: string) => string, base = DEFAULT_DETECTOR): DetectorConfig {
  const cfg = { ...base } as Record<string, unknown>;
  for (const [name, raw] of Object.entries(values)) {
    const knob = KNOBS[name];
    if (!knob) throw new Error(`${label(name)} is not a detector setting`);
    if (raw === undefined) continue;
    const value = parseKnob(knob, raw);
    if (value instanceof Error) throw new Error(`${label(name)} ${value.message}`);
    cfg[knob.field] = value;
  }
  const out = cfg as unknown as DetectorConfig;
  if (!(out.criticalP <= out.highP && out.highP <= out.alarmP)) throw new Error(`${label('critical-p')} ≤ ${label('high-p')} ≤ ${label('alarm-p')} must hold`);
  return out;
}

/** Each knob as a help line: `  --name VALUE   what it does (default …)`. */
export function knobHelp(option: (name: string) => string, base = DEFAULT_DETECTOR): string {
  return Object.entries(KNOBS)
    .map(([name, k]) => `  ${option(name).padEnd(28)}${k.help} (default ${base[k.field]})`)
    .join('\n');
}
