/** The corpus' shapes, shared by the generator, the scoring and the report. */

export type AnomalyKind = 'spike' | 'dip' | 'level-shift' | 'variance' | 'drift' | 'broken-seasonality' | 'flatline';
export const ANOMALY_KINDS: readonly AnomalyKind[] = ['spike', 'dip', 'level-shift', 'variance', 'drift', 'broken-seasonality', 'flatline'];

/** Epoch ms, both ends inclusive; `start` is the labelled onset (the first anomalous sample). */
export interface Window {
  start: number;
  end: number;
  kind: AnomalyKind;
}

export interface Series {
  name: string;
  family: string;
  stepMs: number;
  timestamps: number[]; // epoch ms, increasing; gaps where a scrape was missed
  values: number[];
  windows: Window[]; // in time order, never overlapping
}

/** 2026-01-05 00:00 UTC, a Monday: weekly patterns begin on a weekday. */
export const T0 = Date.UTC(2026, 0, 5);

export const WARMUP_FRACTION = 0.15;

/** Samples at the start of a series in which no alarm is scored (NAB's probationary period: 15%). */
export const warmupOf = (n: number) => Math.ceil(WARMUP_FRACTION * n);
