import { createReadStream, fstatSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { emptyState, observe, type DetectorConfig } from '../processors/runtime/detector.ts';
import { detectorConfigFrom, KNOBS, knobHelp } from '../processors/runtime/detector-knobs.ts';

/**
 * `autopilot detect`: backtest the stream processor's detector on a CSV of one
 * series. Rows are judged one by one in file order with the very `judge` the
 * processor runs, so each score sees only earlier rows, as it would live.
 */

const HEADER_IN = 'timestamp,value';
const HEADER_OUT = 'timestamp,value,anomaly_score,anomaly\n';
const SCORE_DECIMALS = 6;
/** Output is handed to the writer in chunks of about this many characters, not a write per row. */
const BATCH_CHARS = 64 * 1024;
/** A file at least this large shows progress even when stderr is not a terminal (logs get a line every few seconds). */
const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;
const PROGRESS_EVERY_MS = 5_000;

export const DETECT_HELP = `Usage: autopilot detect --input FILE|- [options]

Scores each row of a timestamp,value CSV (header optional, blank lines skipped;
timestamps ISO 8601 or epoch ms, passed through) with the stream processor's
detector, online and in file order, and writes timestamp,value,anomaly_score,anomaly
to stdout. anomaly_score is S / (S + 1) with S = -log10(p), p the row's
p-value under the series' own history (0.8 = p of 1e-4); anomaly is 1 where the
live detector raises an anomaly (p under --alarm-p, once per event, and again
when the event lasts into a level shift). The processors take the same
settings as DETECT_<NAME> variables (DETECT_ALARM_P for --alarm-p).

Options:
  --input FILE|-              the CSV to read; - reads stdin
${knobHelp((name) => `--${name}`)}
  -h, --help                  this text
`;

/** A bad option: exit 2, like any usage error. */
class OptionError extends Error {}
/** A malformed input row: exit 1, naming the line. */
class RowError extends Error {}

export type OnProgress = (bytesRead: number, rows: number) => void;

/** Scores every row of `input` onto `output` (left open) and returns how many rows were scored. */
export async function detectStream(input: Readable, output: Writable, cfg: DetectorConfig, onProgress?: OnProgress): Promise<number> {
  const counts = { bytes: 0, rows: 0 };
  await pipeline(scoredCsv(input, cfg, counts, onProgress), output, { end: false });
  return counts.rows;
}

async function* scoredCsv(input: Readable, cfg: DetectorConfig, counts: { bytes: number; rows: number }, onProgress?: OnProgress): AsyncGenerator<string> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  // Attached after readline so no chunk flows past it unseen.
  input.on('data', (chunk: Buffer | string) => void (counts.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length));
  const state = emptyState();
  let batch = HEADER_OUT;
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    const row = parseRow(lineNo === 1 ? line.replace(/^\uFEFF/, '') : line, lineNo);
    if (!row) continue;
    const { score, anomaly, sustained } = observe(state, row.time, row.value, cfg);
    counts.rows++;
    batch += `${row.timestamp},${row.valueText},${score.toFixed(SCORE_DECIMALS)},${anomaly || sustained ? 1 : 0}\n`;
    if (batch.length >= BATCH_CHARS) {
      yield batch;
      batch = '';
      onProgress?.(counts.bytes, counts.rows);
    }
  }
  if (batch) yield batch;
  onProgress?.(counts.bytes, counts.rows);
}

/** A data row, or undefined for a blank line or the header. */
function parseRow(line: string, lineNo: number): { timestamp: string; time: number; valueText: string; value: number } | undefined {
  const text = line.trim();
  if (!text || text.toLowerCase() === HEADER_IN) return undefined;
  const fields = text.split(',');
  if (fields.length !== 2) throw new RowError(`line ${lineNo}: expected 2 columns (timestamp,value), got ${fields.length}`);
  const timestamp = fields[0]!.trim();
  const valueText = fields[1]!.trim();
  // The time matters: the detector keeps an hour-of-day profile.
  const time = /^\d+$/.test(timestamp) ? Number(timestamp) : Date.parse(timestamp);
  if (Number.isNaN(time)) throw new RowError(`line ${lineNo}: timestamp '${timestamp}' is neither ISO 8601 nor epoch ms`);
  // Number('') is 0, so an empty field is caught by name, not by the finiteness check.
  const value = valueText ? Number(valueText) : NaN;
  if (!Number.isFinite(value)) throw new RowError(`line ${lineNo}: value '${valueText}' is not a finite number`);
  return { timestamp, time, valueText, value };
}

/** The CLI: `autopilot detect --input FILE [options]`. Reports its own errors and sets the exit code. */
export async function detectCommand(argv: string[]): Promise<void> {
  try {
    const options = parseOptions(argv);
    if (!options) return void process.stdout.write(DETECT_HELP);
    const { stream, size } = openInput(options.input);
    const progress = progressFor(size);
    try {
      await detectStream(stream, process.stdout, options.cfg, progress?.update);
    } finally {
      progress?.stop();
    }
  } catch (err) {
    // The reader hung up (`| head`): nothing left to do, not a failure.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
    if (!(err instanceof OptionError || err instanceof RowError)) throw err;
    process.stderr.write(`autopilot detect: ${err.message}${err instanceof OptionError ? '\n(see autopilot detect --help)' : ''}\n`);
    process.exitCode = err instanceof OptionError ? 2 : 1;
  }
}

/** The flags as node's parseArgs reads them; its own message for an unknown or malformed one. */
function readFlags(argv: string[]) {
  const knobs = Object.fromEntries(Object.keys(KNOBS).map((name) => [name, { type: 'string' as const }]));
  return parseArgs({ args: argv, options: { input: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...knobs } }).values as Record<
    string,
    string | boolean | undefined
  >;
}

/** The input path and detector config, or undefined when help was asked for. */
function parseOptions(argv: string[]): { input: string; cfg: DetectorConfig } | undefined {
  let values: ReturnType<typeof readFlags>;
  try {
    values = readFlags(argv);
  } catch (err) {
    throw new OptionError(err instanceof Error ? err.message : String(err));
  }
  const { input, help, ...knobs } = values;
  if (help) return undefined;
  if (typeof input !== 'string') throw new OptionError('--input FILE is required (- reads stdin)');
  try {
    return { input, cfg: detectorConfigFrom(knobs as Record<string, string | undefined>, (name) => `--${name}`) };
  } catch (err) {
    throw new OptionError((err as Error).message);
  }
}

/** The input stream and its size in bytes when known (a file, or stdin redirected from one). */
function openInput(input: string): { stream: Readable; size?: number } {
  if (input === '-') {
    const stat = fstatSync(0);
    return { stream: process.stdin, size: stat.isFile() ? stat.size : undefined };
  }
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(input);
  } catch (err) {
    throw new OptionError(`--input '${input}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(err)}`);
  }
  if (!stat.isFile()) throw new OptionError(`--input '${input}' is not a file`);
  return { stream: createReadStream(input), size: stat.size };
}

/**
 * A bar of bytes read when the size is known and the run is worth watching (a
 * terminal, or a large file); a plain row count every few seconds when the
 * size is unknown (a pipe), so short runs stay silent.
 */
function progressFor(size: number | undefined): { update: OnProgress; stop: () => void } | undefined {
  if (size === undefined) {
    let next = Date.now() + PROGRESS_EVERY_MS;
    const update: OnProgress = (_bytes, rows) => {
      if (Date.now() < next) return;
      next = Date.now() + PROGRESS_EVERY_MS;
      process.stderr.write(`autopilot detect: ${rows} rows\n`);
    };
    return { update, stop: () => {} };
  }
  if (!process.stderr.isTTY && size < PROGRESS_MIN_BYTES) return undefined;
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'detect [{bar}] {percentage}% | {read}/{size} MB | {rows} rows | ETA {eta_formatted}',
      noTTYOutput: true,
      notTTYSchedule: PROGRESS_EVERY_MS,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(size, 0, { read: mb(0), size: mb(size), rows: 0 });
  return {
    update: (bytes, rows) => bar.update(bytes, { read: mb(bytes), rows }),
    stop: () => bar.stop(),
  };
}
