import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { readRunFile } from '../../cli/run-file.ts';
import { eventually, type TestPipeline } from './pipeline.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/autopilot.js');

/**
 * `autopilot run <component>` as a child of the test, so it can be SIGKILLed:
 * on the pipeline's consumer groups and admin key, with a data folder of its own;
 * `env` overrides any of that (another group prefix: a second, independent pipeline).
 */
export function runComponent(p: TestPipeline, component: string, dataDir: string, env: Record<string, string> = {}): ChildProcess {
  const childEnv = {
    ...process.env,
    AUTOPILOT_DATA_DIR: dataDir,
    PORT: '0',
    AUTOPILOT_ADMIN_KEY: p.adminKey,
    AUTOPILOT_GROUP_PREFIX: p.config.groupPrefix,
    AUTOPILOT_NEW_GROUP_START: 'latest',
    ...env,
  };
  return spawn(process.execPath, [BIN, 'run', component], { env: childEnv, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The child's admin endpoint, once it holds the embedded ClickHouse and has written its run file. */
export async function adminUrl(child: ChildProcess, dataDir: string, ms = 90_000): Promise<string> {
  return (await eventually(
    async () => readRunFile(dataDir),
    (r) => r?.pid === child.pid,
    ms,
  ))!.url;
}

/** A read-only query through that endpoint. */
export async function adminSql<T = Record<string, unknown>>(p: TestPipeline, url: string, query: string): Promise<T[]> {
  const res = await fetch(`${url}/admin/sql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  if (!res.ok) throw new Error(`admin sql: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: T[] }).data;
}
