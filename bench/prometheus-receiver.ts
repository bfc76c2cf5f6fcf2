/**
 * Prometheus (the Debian package's /usr/bin/prometheus) as nothing but a
 * remote-write receiver, the peer the remote-write benchmark measures the
 * gateway against: its own temporary TSDB, a config with no scrape jobs, on
 * loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/helpers/daemon.ts';
import { stopChild, waitReady } from './stack.ts';
import type { Teardown } from './teardown.ts';

const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface PrometheusReceiver {
  /** http://127.0.0.1:<port> */
  base: string;
  child: ChildProcess;
  /** Its last log lines (it logs to a file in its temporary folder). */
  logTail(lines?: number): string;
  /** Stops it and removes its folder (`teardown` does too, if it was not stopped before). */
  stop(): Promise<void>;
}

export async function startPrometheusReceiver(teardown: Teardown): Promise<PrometheusReceiver> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'autopilot-bench-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  await writeFile(config, 'global:\n  evaluation_interval: 1h\n'); // no scrape jobs, no rules: it only receives
  const port = await freePort();
  const log = path.join(dir, 'prometheus.log');
  const logFd = openSync(log, 'a');
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--log.level=warn',
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  const base = `http://127.0.0.1:${port}`;
  const logTail = (lines = 20) => readFileSync(log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  const stop = async () => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  teardown.defer('Prometheus', stop);
  try {
    await waitReady(`${base}/-/ready`, child, 'prometheus', 60_000);
  } catch (err) {
    const tail = logTail();
    await stop();
    throw new Error(`${(err as Error).message}; its log ends with:\n${tail}`);
  }
  return { base, child, logTail, stop };
}
