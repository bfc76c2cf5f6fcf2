import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Teardown } from './teardown.ts';

describe('Teardown', () => {
  it('runs the steps last deferred first, once', async () => {
    const ran: string[] = [];
    const teardown = new Teardown();
    for (const what of ['stack', 'gateway', 'prometheus']) teardown.defer(what, async () => void ran.push(what));
    await Promise.all([teardown.run(), teardown.run()]);
    await teardown.run();
    expect(ran).toEqual(['prometheus', 'gateway', 'stack']);
  });

  it('runs every step when one fails, and reports the failure', async () => {
    const ran: string[] = [];
    const failures: string[] = [];
    const teardown = new Teardown({ onError: (what, err) => failures.push(`${what}: ${(err as Error).message}`) });
    teardown.defer('stack', async () => void ran.push('stack'));
    teardown.defer('gateway', async () => {
      throw new Error('would not stop');
    });
    await teardown.run();
    expect(ran).toEqual(['stack']);
    expect(failures).toEqual(['gateway: would not stop']);
  });

  it('runs a step deferred during or after teardown (the flow still going after a signal)', async () => {
    const ran: string[] = [];
    const teardown = new Teardown();
    teardown.defer('stack', async () => {
      teardown.defer('late child', async () => void ran.push('late child'));
      ran.push('stack');
    });
    await teardown.run();
    expect(ran).toEqual(['stack', 'late child']);
    let after = false;
    teardown.defer('later child', async () => void (after = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(after).toBe(true);
  });

  // Without the handlers, Node exits at once on SIGINT and runs no `finally`: the step's file would not be written.
  it('on SIGINT, runs the steps and then exits 130', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'autopilot-teardown-'));
    try {
      const marker = path.join(dir, 'stopped');
      const script = path.join(dir, 'bench.mts'); // .mts: an ES module (top-level await) outside the package
      await writeFile(
        script,
        [
          `import { writeFile } from 'node:fs/promises';`,
          `import { Teardown } from ${JSON.stringify(path.join(import.meta.dirname, 'teardown.ts'))};`,
          `const teardown = new Teardown().stopOnSignals();`,
          `teardown.defer('the stack', () => writeFile(${JSON.stringify(marker)}, 'stopped'));`,
          `try {`,
          `  process.stdout.write('ready\\n');`,
          `  await new Promise((resolve) => setTimeout(resolve, 60_000));`,
          `} finally {`,
          `  await teardown.run();`,
          `}`,
        ].join('\n'),
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`the script exited with ${code} before it was ready: ${stderr}`)));
      });
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      expect(code).toBe(130);
      expect(await readFile(marker, 'utf8')).toBe('stopped');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
