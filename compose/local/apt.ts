import { findOnPath, isRoot, runCommand } from './commands.ts';

/**
 * The path of `bin`, installing Debian's `pkg` with apt-get first when it is
 * missing and we are root (a fresh CI machine); otherwise an error that says
 * what to install.
 */
export async function ensureDebianTool(bin: string, pkg: string, progress: (msg: string) => void = () => {}): Promise<string> {
  const found = await findOnPath(bin);
  if (found) return found;
  const hint = `install ${pkg} (apt-get install ${pkg})`;
  if (!isRoot()) throw new Error(`${bin} was not found: ${hint}`);

  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  progress(`${bin} not found; installing ${pkg} with apt-get`);
  const install = () => runCommand('apt-get', ['install', '-y', '--no-install-recommends', pkg], { env });
  let result = await install();
  if (result.code !== 0) {
    // A fresh machine often has no package lists yet.
    await runCommand('apt-get', ['update'], { env });
    result = await install();
  }
  if (result.code !== 0) throw new Error(`apt-get install ${pkg} failed (${result.code}):\n${result.output.trim().split('\n').slice(-15).join('\n')}`);
  const installed = await findOnPath(bin);
  if (!installed) throw new Error(`${pkg} installed but ${bin} is still not on PATH: ${hint}`);
  return installed;
}
