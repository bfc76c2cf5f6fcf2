import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureDebianPackage, ensureDebianTool } from './apt.ts';

/**
 * ensureDebianTool on a fresh machine, played by a folder put first on PATH
 * holding stand-ins for apt-get, dpkg-query and service that log their calls.
 * The stand-in apt-get fails until `apt-get update` ran (no package lists
 * yet), then "installs" the tool into the same folder, as Debian's packages
 * of prometheus and prometheus-alertmanager put theirs in /usr/bin.
 */
const TOOL = 'autopilot-apt-test-tool';
const PKG = 'autopilot-apt-test-pkg';
let dir: string;
let savedPath: string | undefined;

const script = (name: string, body: string) => writeFile(join(dir, name), `#!/bin/sh\n${body}\n`).then(() => chmod(join(dir, name), 0o755));
const calls = async () => (await readFile(join(dir, 'calls.log'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'autopilot-apt-'));
  savedPath = process.env.PATH;
  process.env.PATH = `${dir}${delimiter}${savedPath ?? ''}`;
  const log = `echo "$(basename "$0") $*" >> "${dir}/calls.log"`;
  await script(
    'apt-get',
    `${log}
case "$1" in
  update) touch "${dir}/lists" ;;
  install)
    [ "$DEBIAN_FRONTEND" = noninteractive ] || { echo "would prompt" >&2; exit 1; }
    [ -f "${dir}/lists" ] || { echo "E: Unable to locate package ${PKG}" >&2; exit 100; }
    printf '#!/bin/sh\\n' > "${dir}/${TOOL}" && chmod 755 "${dir}/${TOOL}" ;;
esac`,
  );
  await script(
    'dpkg-query',
    `${log}
printf '%s\\n' /etc/default/autopilot-apt-test /etc/init.d/autopilot-apt-test /lib/systemd/system/autopilot-apt-test.service \\
  /lib/systemd/system/autopilot-apt-test@.service /usr/lib/systemd/system/autopilot-apt-test-extra.service /usr/bin/${TOOL}`,
  );
  await script('service', log);
});

afterEach(async () => {
  process.env.PATH = savedPath;
  await rm(dir, { recursive: true, force: true });
});

it('installs a missing tool with apt-get (updating the lists first when needed) and stops the services the install started', async () => {
  const progress: string[] = [];
  const path = await ensureDebianTool(TOOL, PKG, (m) => progress.push(m), { root: true });
  expect(path).toBe(join(dir, TOOL));
  // Before stopPackageServices existed the log ended at the second install, with no dpkg-query and no service stop.
  expect(await calls()).toEqual([
    `apt-get install -y --no-install-recommends ${PKG}`,
    'apt-get update',
    `apt-get install -y --no-install-recommends ${PKG}`,
    `dpkg-query -L ${PKG}`,
    // The unit and the init script of one service are stopped once; the template unit is left alone.
    'service autopilot-apt-test stop',
    'service autopilot-apt-test-extra stop',
  ]);
  expect(progress).toContain(`stopped service autopilot-apt-test, which installing ${PKG} may have started`);

  // Present now: found on PATH, nothing installed or stopped again.
  await expect(ensureDebianTool(TOOL, PKG, () => {}, { root: true })).resolves.toBe(join(dir, TOOL));
  expect(await calls()).toHaveLength(6);
});

it('does not run apt-get without root, and says what to install', async () => {
  await expect(ensureDebianTool(TOOL, PKG, () => {}, { root: false })).rejects.toThrow(`${TOOL} was not found: install ${PKG} (apt-get install ${PKG})`);
  expect(await calls()).toEqual([]);
});

it("reports a package apt-get cannot install, with apt-get's words", async () => {
  await script('apt-get', `echo "$(basename "$0") $*" >> "${dir}/calls.log"; echo "E: Unable to locate package ${PKG}" >&2; exit 100`);
  await expect(ensureDebianTool(TOOL, PKG, () => {}, { root: true })).rejects.toThrow(
    /apt-get install autopilot-apt-test-pkg failed \(100\):\nE: Unable to locate package/,
  );
  // Nothing was installed, so no service is touched.
  expect(await calls()).toEqual([`apt-get install -y --no-install-recommends ${PKG}`, 'apt-get update', `apt-get install -y --no-install-recommends ${PKG}`]);
});

describe('ensureDebianPackage (a package with no binary to look for: fonts)', () => {
  beforeEach(async () => {
    // dpkg's status of the package: installed once the stand-in apt-get has "installed" it.
    await script(
      'dpkg-query',
      `echo "$(basename "$0") $*" >> "${dir}/calls.log"
[ "$1" = -W ] && [ -f "${dir}/${TOOL}" ] && printf 'install ok installed'
[ "$1" = -W ] && [ ! -f "${dir}/${TOOL}" ] && { echo "dpkg-query: no packages found matching ${PKG}" >&2; exit 1; }
exit 0`,
    );
  });

  it('installs it when dpkg does not have it, and only then', async () => {
    await ensureDebianPackage(PKG, () => {}, { root: true });
    expect(await calls()).toEqual([
      `dpkg-query -W -f=\${Status} ${PKG}`,
      `apt-get install -y --no-install-recommends ${PKG}`,
      'apt-get update',
      `apt-get install -y --no-install-recommends ${PKG}`,
    ]);
    await ensureDebianPackage(PKG, () => {}, { root: true });
    expect((await calls()).slice(4)).toEqual([`dpkg-query -W -f=\${Status} ${PKG}`]);
  });

  it('does not run apt-get without root, and says what to install', async () => {
    await expect(ensureDebianPackage(PKG, () => {}, { root: false })).rejects.toThrow(`${PKG} is not installed: apt-get install ${PKG}`);
    expect(await calls()).toEqual([`dpkg-query -W -f=\${Status} ${PKG}`]);
  });
});
