import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR } from '../processors/runtime/detector.ts';
import { gaussian, seededRandom } from '../test/helpers/random.ts';
import { detectStream } from './detect.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = path.join(ROOT, 'test/fixtures/detect-series.csv');
const dir = mkdtempSync(path.join(tmpdir(), 'autopilot-detect-'));

/** Runs the real CLI entry, as a user would. */
function detect(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/autopilot.js', 'detect', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => void (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => void (stderr += s));
    child.on('error', reject).on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

function writeCsv(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const columnOf = (stdout: string, column: number) =>
  stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => Number(line.split(',')[column]));
const scoresOf = (stdout: string) => columnOf(stdout, 2);
const anomaliesOf = (stdout: string) => columnOf(stdout, 3).flatMap((a, i) => (a === 1 ? [i] : []));

// 2000 minutes of 100 ± 2 (Gaussian), a +30 spike at SPIKE and a +20 level shift from SHIFT on.
const SPIKE = 1200;
const SHIFT = 1600;
const random = seededRandom(1);
const normal = () => gaussian(random);
const series = Array.from({ length: 2000 }, (_, i) => ({
  timestamp: 1_700_000_000_000 + i * 60_000,
  value: 100 + 2 * normal() + (i === SPIKE ? 30 : 0) + (i >= SHIFT ? 20 : 0),
}));
const csv = (rows: typeof series) => `timestamp,value\n${rows.map((r) => `${r.timestamp},${r.value}`).join('\n')}\n`;
const seriesFile = writeCsv('series.csv', csv(series));

describe('autopilot detect', () => {
  it('raises the injected spike once, the level shift once and once more as sustained, and nothing in the noise', async () => {
    const { code, stdout, stderr } = await detect(['--input', seriesFile]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // One anomaly per event: the spike (one row: it does not last), and the shift's first row, reported again on
    // its second (it lasts: correlation opens incidents on that); the rows after it are the same event, then the new level.
    expect(anomaliesOf(stdout)).toEqual([SPIKE, SHIFT, SHIFT + DEFAULT_DETECTOR.sustainAfter - 1]);
    const scores = scoresOf(stdout);
    const noiseMax = Math.max(...scores.filter((_, i) => i !== SPIKE && (i < SHIFT || i >= SHIFT + DEFAULT_DETECTOR.shiftAfter)));
    expect(scores[SPIKE]).toBeGreaterThan(noiseMax);
    expect(scores[SHIFT]).toBeGreaterThan(noiseMax);
  });

  it('scores each row from earlier rows only: a prefix scores the same as the whole file', async () => {
    const k = 1300; // past the spike
    const prefix = await detect(['--input', writeCsv('prefix.csv', csv(series.slice(0, k)))]);
    const whole = await detect(['--input', seriesFile]);
    const prefixLines = prefix.stdout.trim().split('\n');
    expect(prefixLines).toHaveLength(k + 1);
    expect(whole.stdout.split('\n').slice(0, k + 1)).toEqual(prefixLines);
  });

  it('writes a header and one row per input row: timestamps and values as given, scores in [0, 1], anomaly 0 or 1', async () => {
    const input = readFileSync(FIXTURE, 'utf8')
      .split('\n')
      .slice(1)
      .filter((line) => line.trim());
    const { code, stdout } = await detect(['--input', FIXTURE]);
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header).toBe('timestamp,value,anomaly_score,anomaly');
    expect(rows).toHaveLength(input.length);
    rows.forEach((row, i) => {
      expect(row.startsWith(`${input[i]},`), row).toBe(true);
      const [, , score, anomaly] = row.split(',');
      expect(score).toMatch(/^\d\.\d{6}$/);
      expect(anomaly).toMatch(/^[01]$/);
      expect(Number(score)).toBeGreaterThanOrEqual(0);
      expect(Number(score)).toBeLessThanOrEqual(1);
    });
    // The same rows through stdin, without a header.
    const piped = await detect(['--input', '-'], input.join('\n'));
    expect(piped.stdout).toBe(stdout);
  });

  it('exits non-zero naming the line of a malformed row', async () => {
    const bad = writeCsv('bad.csv', 'timestamp,value\n1,1\n2,2\n3,3\n4,four\n5,5\n');
    const nonNumeric = await detect(['--input', bad]);
    expect(nonNumeric.code).not.toBe(0);
    expect(nonNumeric.stderr).toContain('line 5');
    const columns = await detect(['--input', writeCsv('columns.csv', '1,1\n2,2,2\n')]);
    expect(columns.code).not.toBe(0);
    expect(columns.stderr).toContain('line 2');
    const nan = await detect(['--input', writeCsv('nan.csv', '1,1\n\n3,NaN\n')]);
    expect(nan.code).not.toBe(0);
    expect(nan.stderr).toContain('line 3');
  });

  it('exits non-zero on a bad option, naming it', async () => {
    for (const [option, value] of [
      ['--alarm-p', 'abc'],
      ['--alarm-p', '1'],
      ['--season-rate', '2'],
      ['--min-samples', '0'],
      ['--tail-quantiles', '0.001,0.01'],
    ] as const) {
      const { code, stderr } = await detect(['--input', FIXTURE, option, value]);
      expect(code, option).toBe(2);
      expect(stderr).toContain(option);
    }
  });

  it('prints its options with their defaults', async () => {
    const { code, stdout } = await detect(['--help']);
    expect(code).toBe(0);
    // Every knob of the detector, each with its default.
    const knobs = Object.keys(DEFAULT_DETECTOR).filter((k) => k !== 'severityP');
    for (const knob of knobs) {
      const option = `--${knob.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      expect(stdout, option).toContain(option);
      expect(stdout, option).toContain(`(default ${DEFAULT_DETECTOR[knob as keyof typeof DEFAULT_DETECTOR]})`);
    }
  });
});

describe('detectStream', () => {
  it('returns the row count and reports every byte read', async () => {
    const output = new PassThrough();
    let chunks = '';
    output.setEncoding('utf8').on('data', (s: string) => void (chunks += s));
    let progress = { bytes: 0, rows: 0 };
    const rows = await detectStream(Readable.from([readFileSync(FIXTURE)]), output, DEFAULT_DETECTOR, (bytes, n) => void (progress = { bytes, rows: n }));
    expect(rows).toBe(40);
    expect(progress).toEqual({ bytes: statSync(FIXTURE).size, rows: 40 });
    expect(chunks.trim().split('\n')).toHaveLength(41);
  });
});
