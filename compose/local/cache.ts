import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const COMPLETE_MARKER = '.complete';

/** A cache entry counts only once its marker exists, so an interrupted download is never mistaken for a good one. */
export async function isCached(dir: string): Promise<boolean> {
  try {
    await stat(join(dir, COMPLETE_MARKER));
    return true;
  } catch {
    return false;
  }
}

/**
 * Fills `dir` through `fill(tmpDir)` in a scratch folder beside it, then renames
 * it into place: readers see either nothing or a whole entry.
 */
export async function fillCacheDir(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  if (await isCached(dir)) return;
  const tmpDir = `${dir}.tmp-${process.pid}`;
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir, { recursive: true });
  try {
    await fill(tmpDir);
    await writeFile(join(tmpDir, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmpDir, dir);
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
}
