import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fillCacheDir, isCached } from './cache.ts';
import { requireTool, runChecked } from './commands.ts';
import { serviceDataDir, stackUrls, type StackConfig } from './config.ts';
import { requireJava, runMaven } from './maven.ts';
import { httpAnswersOk } from './probes.ts';
import type { LaunchSpec } from './process.ts';
import type { Progress, ServiceDefinition } from './service.ts';

/**
 * Apicurio Registry 3.0.9: the newest 3.x on Maven Central that runs on Java 17
 * (3.1.x is not published there; 3.2+ needs Java 21).
 */
const APICURIO_VERSION = '3.0.9';
const ARTIFACT = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;

function registryHome(cfg: StackConfig): string {
  return join(cfg.cacheDir, `apicurio-registry-${APICURIO_VERSION}`);
}

/** The tarball holds a Quarkus "legacy jar": <name>-runner.jar next to lib/. */
async function runnerJar(cfg: StackConfig): Promise<string> {
  const home = registryHome(cfg);
  const jar = (await readdir(home)).find((f) => f.endsWith('-runner.jar'));
  if (!jar) throw new Error(`no *-runner.jar in ${home}; delete that folder to download it again`);
  return join(home, jar);
}

export const registryService: ServiceDefinition = {
  name: 'registry',
  port: (cfg) => cfg.registryPort,
  processMarker: 'apicurio-registry',
  bootTimeoutMs: 120_000,
  stopGraceMs: 15_000,

  async fetch(cfg: StackConfig, progress: Progress): Promise<void> {
    const home = registryHome(cfg);
    if (await isCached(home)) return;
    await requireJava();
    const tar = await requireTool('tar', 'install tar');
    progress(`registry: downloading Apicurio Registry ${APICURIO_VERSION} (~110 MB) from Maven Central into ${home}`);
    await fillCacheDir(home, async (tmp) => {
      const downloads = join(tmp, '.download');
      // Plugin 2.8 on purpose: 3.x reads the artifact's descriptor, and Apicurio's
      // parent POM (io.apicurio:apicurio-registry:3.0.9) is missing from Central.
      await runMaven(['org.apache.maven.plugins:maven-dependency-plugin:2.8:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${downloads}`]);
      const [tarball] = await readdir(downloads);
      if (!tarball) throw new Error(`Maven fetched nothing for ${ARTIFACT}`);
      await runChecked(tar, ['-xzf', join(downloads, tarball), '-C', tmp]);
      // Maven's own repository keeps a copy; no need for a second one here.
      await runChecked('rm', ['-rf', downloads]);
    });
  },

  async prepareLaunch(cfg: StackConfig): Promise<LaunchSpec> {
    const java = await requireJava();
    const dir = serviceDataDir(cfg, 'registry');
    await mkdir(dir, { recursive: true });
    return {
      cmd: java,
      args: [
        '-Xms128m',
        '-Xmx512m',
        '-XX:+ExitOnOutOfMemoryError',
        `-Dquarkus.http.port=${cfg.registryPort}`,
        // A file database instead of the default in-memory one: schema ids are
        // written into every Kafka message, and Kafka's data survives a restart.
        `-Dapicurio.datasource.url=jdbc:h2:file:${join(dir, 'registry')}`,
        // Enforced on subjects that have no rule of their own.
        '-Dapicurio.rules.global.compatibility=BACKWARD',
        // Tests clean up their subjects.
        '-Dapicurio.rest.deletion.artifact.enabled=true',
        '-Dapicurio.rest.deletion.artifact-version.enabled=true',
        '-Dapicurio.rest.deletion.group.enabled=true',
        '-jar',
        await runnerJar(cfg),
      ],
      cwd: dir,
    };
  },

  isAnswering: (cfg) => httpAnswersOk(`${stackUrls(cfg).schemaRegistryUrl}/subjects`),
};
