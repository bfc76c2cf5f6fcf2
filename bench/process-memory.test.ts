import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { childPids, commandName, processTree, readRss, RssTrace, slope, statusKb } from './process-memory.ts';

const STATUS = ['Name:\tnode', 'VmPeak:\t 1234567 kB', 'VmHWM:\t  204800 kB', 'VmRSS:\t  102400 kB', 'RssAnon:\t   90000 kB', 'RssFile:\t   12400 kB', ''].join(
  '\n',
);

describe('statusKb', () => {
  it('reads VmRSS and VmHWM, not a field that merely contains the name', () => {
    expect(statusKb(STATUS, 'VmRSS')).toBe(102400);
    expect(statusKb(STATUS, 'VmHWM')).toBe(204800);
    expect(statusKb(STATUS, 'RssAnon')).toBe(90000);
    expect(statusKb(STATUS, 'RssFile')).toBe(12400);
  });

  it('refuses a status without the field rather than reporting 0', () => {
    expect(() => statusKb('Name:\tkthreadd\n', 'VmRSS')).toThrow(/no VmRSS/);
  });
});

describe('RssTrace', () => {
  it("reports the total's peak as the largest sum of one reading, not the sum of each process's peak", () => {
    const trace = new RssTrace();
    const at = (a: number, b: number) =>
      new Map([
        ['gateway', { rssKb: a * 1024, hwmKb: 900 * 1024, anonKb: (a - 50) * 1024, fileKb: 50 * 1024 }],
        ['processors', { rssKb: b * 1024, hwmKb: 800 * 1024, anonKb: (b - 100) * 1024, fileKb: 100 * 1024 }],
      ]);
    trace.add(0, at(100, 500));
    trace.add(60, at(300, 200));
    trace.add(120, at(200, 400));
    expect(trace.perProcess()).toEqual({
      gateway: { peak_mb: 300, end_mb: 200, hwm_mb: 900, end_anon_mb: 150, end_file_mb: 50, growth_mb_per_min: 50 },
      processors: { peak_mb: 500, end_mb: 400, hwm_mb: 800, end_anon_mb: 300, end_file_mb: 100, growth_mb_per_min: -50 },
    });
    // Sums are 600, 500, 600: the peaks' sum (800) never happened.
    expect(trace.total()).toEqual({ peak_mb: 600, end_mb: 600, growth_mb_per_min: 0 });
    expect(trace.totalTrace()).toEqual([
      [0, 600],
      [60, 500],
      [120, 600],
    ]);
  });
});

describe('slope', () => {
  it('is the least-squares slope, 0 when it cannot be told', () => {
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBeCloseTo(2);
    expect(slope([[5, 1]])).toBe(0);
    expect(
      slope([
        [5, 1],
        [5, 9],
      ]),
    ).toBe(0);
  });
});

describe('processTree', () => {
  it('finds children and grandchildren of a live process, and their memory', async () => {
    // sh forks sleep: sleep is this process's grandchild.
    const sh = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
    try {
      let grandchildren: number[] = [];
      for (let i = 0; i < 100 && grandchildren.length === 0; i++) {
        await sleep(20);
        grandchildren = childPids(sh.pid!);
      }
      expect(grandchildren).toHaveLength(1);
      const tree = processTree(process.pid);
      expect(tree[0]).toBe(process.pid);
      expect(tree).toContain(sh.pid);
      expect(tree).toContain(grandchildren[0]);
      expect(readRss(sh.pid!)!.rssKb).toBeGreaterThan(0);
      expect(commandName(grandchildren[0]!)).toBe('sleep');
    } finally {
      const exited = once(sh, 'exit');
      // The shell's sleep is killed with it by pid (its own process group is ours, so no group kill).
      for (const pid of childPids(sh.pid!)) process.kill(pid, 'SIGTERM');
      sh.kill('SIGTERM');
      await exited;
    }
    // Above pid_max's ceiling: never a live process.
    expect(readRss(2 ** 22 + 1)).toBeUndefined();
    expect(commandName(2 ** 22 + 1)).toBe('?');
  });
});
