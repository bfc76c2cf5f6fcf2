import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually } from './pipeline.ts';

/**
 * A real Prometheus or Alertmanager (Debian's packages; test/global-setup.ts
 * installs them and provides their paths) as a child of the test: its config
 * written to a folder of its own, started on a free loopback port, ready once
 * `readyPath` answers 200.
 */
export interface Daemon {
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

export async function startDaemon(o: {
  binary: string;
  /** The config file's text; it gets the daemon's own port (Prometheus scrapes itself). */
  config: (port: number) => string;
  args: (dir: string, port: number) => string[];
  readyPath: string;
}): Promise<Daemon> {
  const dir = mkdtempSync(path.join(tmpdir(), `autopilot-${path.basename(o.binary)}-`));
  const port = await freePort();
  writeFileSync(path.join(dir, 'config.yml'), o.config(port));
  let output = '';
  const child: ChildProcess = spawn(o.binary, o.args(dir, port), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`${o.binary} exited with ${child.exitCode}:\n${output}`);
        return fetch(`${url}${o.readyPath}`).then(
          (r) => r.status,
          () => 0,
        );
      },
      (status) => status === 200,
      30_000,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    port,
    dir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
