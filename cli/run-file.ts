import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * `<data dir>/running.json` says which process holds the embedded ClickHouse
 * and where its admin endpoint is, so `autopilot sql` can go through it.
 */
export interface RunFile {
  pid: number;
  url: string;
}

const fileOf = (dataDir: string) => path.join(dataDir, 'running.json');

export function writeRunFile(dataDir: string, info: RunFile): void {
  writeFileSync(fileOf(dataDir), JSON.stringify(info));
}

export function removeRunFile(dataDir: string): void {
  rmSync(fileOf(dataDir), { force: true });
}

/** The run file if its process is still alive. */
export function readRunFile(dataDir: string): RunFile | undefined {
  try {
    const info = JSON.parse(readFileSync(fileOf(dataDir), 'utf8')) as RunFile;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}
