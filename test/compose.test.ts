import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

/** Debian's docker-compose validates the file offline (no engine needed): unknown keys or bad references fail. */
it('compose/docker-compose.yml is a valid Compose file with every service', () => {
  const file = path.resolve(import.meta.dirname, '../compose/docker-compose.yml');
  execFileSync('docker-compose', ['-f', file, 'config', '-q'], { stdio: 'pipe' });
  const services = execFileSync('docker-compose', ['-f', file, 'config', '--services'], { encoding: 'utf8' }).trim().split('\n').sort();
  expect(services).toEqual(expect.arrayContaining(['clickhouse', 'gateway', 'grafana', 'kafka', 'ollama', 'processors', 'redis', 'registry', 'scheduler']));
});
