/**
 * Resident memory of live processes, read from /proc, and what the memory
 * benchmark makes of a run of readings: each process's peak and last value,
 * the peak of their sum, and how fast each grew. Kept apart from
 * bench/memory.ts (which runs the benchmark when imported) so it can be tested.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * A field of /proc/<pid>/status in kB. VmRSS: resident now; VmHWM: the
 * kernel's own peak of it; RssAnon: the heap and other private memory;
 * RssFile: mapped files (code and shared libraries, chdb's 540 MB one among
 * them), which the kernel can drop and reread.
 */
export type StatusField = 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile';

export function statusKb(status: string, field: StatusField): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in the process status (a kernel thread, or a process already gone?)`);
  return Number(m[1]);
}

/**
 * Direct children of `pid`. /proc/<pid>/task/<tid>/children lists the
 * children each thread forked, so every thread's file is read, not only the
 * main thread's (a child forked from a worker thread is listed under it).
 */
export function childPids(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // gone
  }
  return tids.flatMap((tid) => {
    try {
      return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}

/** `pid` and all its descendants, parents before children. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childPids(out[i]!));
  return out;
}

/** The command name of a live process (/proc/<pid>/comm: `node`, `esbuild`…), or `?` once it has exited. */
export function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

export interface RssReading {
  rssKb: number;
  hwmKb: number;
  anonKb: number;
  fileKb: number;
}

/** The resident memory of a live process in kB, or undefined once it has exited. */
export function readRss(pid: number): RssReading | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  return { rssKb: statusKb(status, 'VmRSS'), hwmKb: statusKb(status, 'VmHWM'), anonKb: statusKb(status, 'RssAnon'), fileKb: statusKb(status, 'RssFile') };
}

export interface ProcessFigures {
  peak_mb: number;
  end_mb: number;
  /** The kernel's peak (VmHWM) at the last reading: catches a spike between two readings. */
  hwm_mb: number;
  /** The last reading split: private memory (heaps) and mapped files (code, shared libraries). */
  end_anon_mb: number;
  end_file_mb: number;
  /** Least-squares slope over the readings: a process whose memory grows without bound shows here. */
  growth_mb_per_min: number;
}

/**
 * Readings of named processes over time. A reading holds every process alive
 * then; the total's peak is the peak of each reading's sum, not the sum of
 * each process's peak (those need not coincide).
 */
export class RssTrace {
  readonly #series = new Map<string, ({ t: number } & RssReading)[]>();
  readonly #totals: { t: number; kb: number }[] = [];

  add(tSeconds: number, reading: Map<string, RssReading>): void {
    let total = 0;
    for (const [name, r] of reading) {
      const points = this.#series.get(name) ?? [];
      points.push({ t: tSeconds, ...r });
      this.#series.set(name, points);
      total += r.rssKb;
    }
    this.#totals.push({ t: tSeconds, kb: total });
  }

  get readings(): number {
    return this.#totals.length;
  }

  perProcess(): Record<string, ProcessFigures> {
    const out: Record<string, ProcessFigures> = {};
    for (const [name, points] of this.#series) {
      const last = points[points.length - 1]!;
      out[name] = {
        peak_mb: mb(Math.max(...points.map((p) => p.rssKb))),
        end_mb: mb(last.rssKb),
        hwm_mb: mb(last.hwmKb),
        end_anon_mb: mb(last.anonKb),
        end_file_mb: mb(last.fileKb),
        growth_mb_per_min: round1((slope(points.map((p) => [p.t, p.rssKb])) * 60) / 1024),
      };
    }
    return out;
  }

  total(): { peak_mb: number; end_mb: number; growth_mb_per_min: number } {
    const last = this.#totals[this.#totals.length - 1];
    return {
      peak_mb: mb(Math.max(0, ...this.#totals.map((p) => p.kb))),
      end_mb: mb(last?.kb ?? 0),
      growth_mb_per_min: round1((slope(this.#totals.map((p) => [p.t, p.kb])) * 60) / 1024),
    };
  }

  /** [seconds, total MB] per reading, for a plot or a glance at the shape of growth. */
  totalTrace(): [number, number][] {
    return this.#totals.map((p) => [round1(p.t), mb(p.kb)]);
  }
}

/** Least-squares slope of y over x; 0 with fewer than two distinct x. */
export function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const mb = (kb: number) => Math.round(kb / 1024);
const round1 = (x: number) => Math.round(x * 10) / 10;
