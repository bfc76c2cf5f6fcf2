/** The bench's table: per contender, the corpus overall and per family, windows found by kind, the best threshold. */
import type { Evaluation } from './evaluate.ts';
import type { Figures } from './scoring.ts';

const COLUMNS = ['family', 'series', 'samples', 'windows', 'found', 'score', 'FA/10k', 'delay p50/p90 (samples)', '(minutes)'];
const WIDTHS = [18, 6, 8, 8, 6, 7, 8, 24, 12];

const fmt = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '—' : x.toFixed(digits));
const pair = (d: { p50: number; p90: number } | null, digits = 0) => (d ? `${fmt(d.p50, digits)} / ${fmt(d.p90, digits)}` : '—');
const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(WIDTHS[i]!) : c.padStart(WIDTHS[i]!))).join(' ');

function line(label: string, f: Figures): string {
  return row([
    label,
    String(f.series),
    String(f.samples),
    String(f.windows),
    String(f.detected),
    fmt(f.score),
    fmt(f.falseAlarmsPer10k),
    pair(f.delaySamples),
    pair(f.delayMinutes),
  ]);
}

export function table(e: Evaluation): string {
  const { overall, families } = e.live;
  const kinds = Object.entries(overall.byKind)
    .map(([kind, k]) => `${kind} ${k.detected}/${k.windows}`)
    .join(', ');
  const best = e.best
    ? `best threshold on its score: score ≥ ${e.best.threshold.toPrecision(7)} → score ${fmt(e.best.figures.score)}, ` +
      `FA/10k ${fmt(e.best.figures.falseAlarmsPer10k)}, found ${e.best.figures.detected}/${e.best.figures.windows}, ` +
      `delay p50/p90 ${pair(e.best.figures.delaySamples)} samples (${e.sweep.length} distinct thresholds tried)`
    : 'best threshold: no scores';
  return [
    `${e.name}: ${e.rule}`,
    row(COLUMNS),
    line('ALL', overall),
    ...Object.entries(families).map(([name, f]) => line(name, f)),
    `found by kind: ${kinds}`,
    best,
  ].join('\n');
}
