import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR } from '../processors/runtime/baseline.ts';
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

const scoresOf = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => Number(line.split(',')[2]));

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
  it('scores the injected spike and the first row of the level shift highest', async () => {
    const { code, stdout, stderr } = await detect(['--input', seriesFile]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const scores = scoresOf(stdout);
    expect(scores[SPIKE]).toBeGreaterThan(0.99);
    expect(scores[SHIFT]).toBeGreaterThan(0.99);
    // Until the baseline restarts (shiftAfter anomalies in a row) every row of the shift is as unusual as its first,
    // so the top scores are the spike and that streak, each above any row of plain noise.
    const streak = Array.from({ length: DEFAULT_DETECTOR.shiftAfter }, (_, k) => SHIFT + k);
    const injected = new Set([SPIKE, ...streak]);
    const noiseMax = Math.max(...scores.filter((_, i) => !injected.has(i)));
    for (const i of injected) expect(scores[i], `row ${i}`).toBeGreaterThan(noiseMax);
  });

  it('scores each row from earlier rows only: a prefix scores the same as the whole file', async () => {
    const k = 1300; // past the spike
    const prefix = await detect(['--input', writeCsv('prefix.csv', csv(series.slice(0, k)))]);
    const whole = await detect(['--input', seriesFile]);
    const prefixLines = prefix.stdout.trim().split('\n');
    expect(prefixLines).toHaveLength(k + 1);
    expect(whole.stdout.split('\n').slice(0, k + 1)).toEqual(prefixLines);
  });

  it('writes a header and one row per input row: timestamps and values as given, scores in [0, 1]', async () => {
    const input = readFileSync(FIXTURE, 'utf8')
      .split('\n')
      .slice(1)
      .filter((line) => line.trim());
    const { code, stdout } = await detect(['--input', FIXTURE]);
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header).toBe('timestamp,value,anomaly_score');
    expect(rows).toHaveLength(input.length);
    rows.forEach((row, i) => {
      expect(row.startsWith(`${input[i]},`), row).toBe(true);
      const score = row.split(',')[2]!;
      expect(score).toMatch(/^\d\.\d{6}$/);
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
      ['--threshold', 'abc'],
      ['--method', 'fancy'],
      ['--window', '0'],
    ] as const) {
      const { code, stderr } = await detect(['--input', FIXTURE, option, value]);
      expect(code, option).toBe(2);
      expect(stderr).toContain(option);
    }
  });

  it('prints its options with their defaults', async () => {
    const { code, stdout } = await detect(['--help']);
    expect(code).toBe(0);
    for (const option of ['--input', '--window', '--min-samples', '--threshold', '--method', '--shift-after', '--min-relative-scale', '--learn-anomalies']) {
      expect(stdout).toContain(option);
    }
    expect(stdout).toContain(`(default ${DEFAULT_DETECTOR.window})`);
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
