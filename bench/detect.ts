/**
 * Detection quality (issue 12): each contender detector over a labelled
 * corpus of production-like series, scored the way anomaly benchmarks score.
 * CPU only, no services; figures, never pass/fail.
 *
 *   npm run bench:detect [-- --json] [--seed N] [--series N]
 *
 * - bench/detect/families.ts, corpus.ts: the series and their labelled windows, from the seed
 * - bench/detect/scoring.ts: NAB-style window score (0 = never alarming, 100 = perfect), false alarms per 10k
 *   samples on anomaly-free stretches, windows found, detection delay
 * - bench/detect/detectors.ts: the detector interface and the contenders (the live detector, the textbook rule)
 * - bench/detect/evaluate.ts: one run per contender, scored at its live threshold and at a sweep of thresholds
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SEED, DEFAULT_SERIES, generateCorpus } from './detect/corpus.ts';
import { CONTENDERS } from './detect/detectors.ts';
import { evaluate } from './detect/evaluate.ts';
import { table } from './detect/report.ts';
import { PROFILE } from './detect/scoring.ts';
import { WARMUP_FRACTION } from './detect/series.ts';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seed: { type: 'string', default: String(DEFAULT_SEED) },
    series: { type: 'string', default: String(DEFAULT_SERIES) },
  },
});
const seed = Number(args.seed);
const count = Number(args.series);
if (!Number.isInteger(seed) || !Number.isInteger(count) || count < 1) {
  process.stderr.write('bench:detect: --seed and --series take integers (--series at least 1)\n');
  process.exit(2);
}
const say = (msg: string) => !args.json && process.stderr.write(`${msg}\n`);

let started = performance.now();
const corpus = generateCorpus({ seed, series: count });
const samples = corpus.reduce((a, s) => a + s.values.length, 0);
say(`bench:detect: ${corpus.length} series, ${samples} samples, seed ${seed} (generated in ${Math.round(performance.now() - started)} ms)`);

const evaluations = CONTENDERS.map((contender) => {
  started = performance.now();
  const e = evaluate(contender, corpus);
  say(`bench:detect: ${contender.name} judged and swept in ${Math.round(performance.now() - started)} ms`);
  return e;
});

const result = {
  bench: 'detect',
  seed,
  series: corpus.length,
  samples,
  windows: corpus.reduce((a, s) => a + s.windows.length, 0),
  scoring: { profile: PROFILE, warmup_fraction: WARMUP_FRACTION },
  detectors: evaluations,
};
if (args.json) console.log(JSON.stringify(result));
else {
  console.log(
    `score: 0 = never alarming, 100 = perfect (NAB standard profile: tp ${PROFILE.tp}, fp ${PROFILE.fp}, fn ${PROFILE.fn}); ` +
      `FA/10k: false alarms per 10k samples outside windows and the first ${WARMUP_FRACTION * 100}% of each series\n`,
  );
  console.log(evaluations.map(table).join('\n\n'));
}
