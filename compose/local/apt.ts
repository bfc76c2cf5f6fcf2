import { findOnPath, isRoot, runCommand } from './commands.ts';

/**
 * The path of `bin`, installing Debian's `pkg` with apt-get first when it is
 * missing and we are root (a fresh CI machine); otherwise an error that says
 * what to install. A package it installs has its services stopped again
 * (stopPackageServices): Autopilot wants the binary, not the system daemon.
 * `opts.root` stands in for the uid check (a test on a fake PATH).
 */
export async function ensureDebianTool(bin: string, pkg: string, progress: (msg: string) => void = () => {}, opts: { root?: boolean } = {}): Promise<string> {
  const found = await findOnPath(bin);
  if (found) return found;
  const hint = `install ${pkg} (apt-get install ${pkg})`;
  if (!(opts.root ?? isRoot())) throw new Error(`${bin} was not found: ${hint}`);

  progress(`${bin} not found; installing ${pkg} with apt-get`);
  await aptInstall(pkg);
  await stopPackageServices(pkg, progress);
  const installed = await findOnPath(bin);
  if (!installed) throw new Error(`${pkg} installed but ${bin} is still not on PATH: ${hint}`);
  return installed;
}

/**
 * Installs Debian's `pkg` when dpkg does not have it and we are root; for
 * what has no binary to look for (fonts for the headless browser's
 * screenshots). Without root, an error that says what to install. `opts.root`
 * as for ensureDebianTool.
 */
export async function ensureDebianPackage(pkg: string, progress: (msg: string) => void = () => {}, opts: { root?: boolean } = {}): Promise<void> {
  // dpkg-query's own format syntax (${Status}), not a JavaScript template.
  const status = await runCommand('dpkg-query', ['-W', '-f=$' + '{Status}', pkg]);
  if (status.code === 0 && status.output.includes('install ok installed')) return;
  if (!(opts.root ?? isRoot())) throw new Error(`${pkg} is not installed: apt-get install ${pkg}`);
  progress(`installing ${pkg} with apt-get`);
  await aptInstall(pkg);
}

/** apt-get install, with an `apt-get update` first when the package lists are missing (a fresh machine). */
async function aptInstall(pkg: string): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => runCommand('apt-get', ['install', '-y', '--no-install-recommends', pkg], { env });
  let result = await install();
  if (result.code !== 0) {
    await runCommand('apt-get', ['update'], { env });
    result = await install();
  }
  if (result.code !== 0) throw new Error(`apt-get install ${pkg} failed (${result.code}):\n${result.output.trim().split('\n').slice(-15).join('\n')}`);
}

/**
 * Stops the services Debian's maintainer scripts start when `pkg` is
 * installed: redis-server on 6379, prometheus on 9090, and
 * prometheus-alertmanager on 9093, which is also the Kafka controller port of
 * `npm start`'s stack. The services are the package's own systemd units and
 * init scripts (`dpkg-query -L`); `service` stops either kind, with or without
 * systemd running. Best effort: one that was not running is no failure.
 */
export async function stopPackageServices(pkg: string, progress: (msg: string) => void = () => {}): Promise<void> {
  const listed = await runCommand('dpkg-query', ['-L', pkg]);
  if (listed.code !== 0) return;
  const names = new Set<string>();
  for (const file of listed.output.split('\n')) {
    // Template units (redis-server@.service) start nothing by themselves.
    const unit = /^\/(?:usr\/)?lib\/systemd\/system\/([^/@]+)\.service$/.exec(file.trim());
    const script = /^\/etc\/init\.d\/([^/]+)$/.exec(file.trim());
    const name = unit?.[1] ?? script?.[1];
    if (name) names.add(name);
  }
  for (const name of names) {
    const stopped = await runCommand('service', [name, 'stop']).catch(() => ({ code: 1, output: '' }));
    if (stopped.code === 0) progress(`stopped service ${name}, which installing ${pkg} may have started`);
  }
}
