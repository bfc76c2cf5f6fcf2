import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Keys for a local `npm start` when none are configured: made once, kept in
 * the data folder (mode 0600) so they survive restarts and `autopilot sql`
 * can find the admin key.
 */
export function devKey(dataDir: string, name: 'dev-api-key' | 'admin-key'): string {
  const file = path.join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = `ap_${randomBytes(18).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

export function readDevKey(dataDir: string, name: 'dev-api-key' | 'admin-key'): string | undefined {
  const file = path.join(dataDir, name);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}
