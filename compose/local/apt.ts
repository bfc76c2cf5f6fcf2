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
  await stopPackageServices(pkg, progress);
  const installed = await findOnPath(bin);
  if (!installed) throw new Error(`${pkg} installed but ${bin} is still not on PATH: ${hint}`);
  return installed;
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
