import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fillCacheDir, isCached } from './cache.ts';
import { runChecked } from './commands.ts';
import { LOCAL_STACK_DIR, serviceDataDir, type StackConfig } from './config.ts';
import { requireJava, runMaven } from './maven.ts';
import { kafkaAnswersMetadata, portAcceptsConnections, warmUpGroupCoordinator } from './probes.ts';
import type { LaunchSpec } from './process.ts';
import type { Progress, ServiceDefinition } from './service.ts';

/** Latest 4.1 patch on Maven Central; runs on Java 17. */
const KAFKA_VERSION = '4.1.1';

const LOG4J_CONFIG = join(LOCAL_STACK_DIR, 'log4j2.properties');

function kafkaHome(cfg: StackConfig): string {
  return join(cfg.cacheDir, `kafka-${KAFKA_VERSION}`);
}

/** Java expands the `dir/*` classpath wildcard itself, so no shell is involved. */
function classpath(cfg: StackConfig): string {
  return join(kafkaHome(cfg), 'lib', '*');
}

function javaArgs(cfg: StackConfig, heap: string[], mainClass: string, args: string[]): string[] {
  return [...heap, '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`, '-cp', classpath(cfg), mainClass, ...args];
}

function serverProperties(cfg: StackConfig, logDir: string): string {
  const p = cfg.kafkaPort;
  const c = cfg.kafkaControllerPort;
  return [
    '# Written by compose/local/kafka.ts on every start; edits here are overwritten.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=localhost:${c}`,
    `listeners=PLAINTEXT://:${p},CONTROLLER://:${c}`,
    `advertised.listeners=PLAINTEXT://localhost:${p},CONTROLLER://localhost:${c}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${logDir}`,
    'num.partitions=3',
    // The application creates its topics explicitly; a typo must not silently make a new one.
    'auto.create.topics.enable=false',
    // Single node: every internal topic must fit on one broker.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Consumers in tests join one at a time; waiting 3 s for more members only slows them down.
    'group.initial.rebalance.delay.ms=0',
    'num.network.threads=2',
    'num.io.threads=4',
    '',
  ].join('\n');
}

async function isFormatted(logDir: string): Promise<boolean> {
  try {
    await stat(join(logDir, 'meta.properties'));
    return true;
  } catch {
    return false;
  }
}

export const kafkaService: ServiceDefinition = {
  name: 'kafka',
  port: (cfg) => cfg.kafkaPort,
  processMarker: 'kafka.Kafka',
  bootTimeoutMs: 120_000,
  // A single-node controlled shutdown normally takes a few seconds.
  stopGraceMs: 30_000,

  async fetch(cfg: StackConfig, progress: Progress): Promise<void> {
    const home = kafkaHome(cfg);
    if (await isCached(home)) return;
    await requireJava();
    progress(`kafka: downloading Kafka ${KAFKA_VERSION} jars from Maven Central into ${home}`);
    await fillCacheDir(home, async (tmp) => {
      await runMaven([`-Dkafka.version=${KAFKA_VERSION}`, 'dependency:copy-dependencies', `-DoutputDirectory=${join(tmp, 'lib')}`]);
    });
  },

  async prepareLaunch(cfg: StackConfig, progress: Progress): Promise<LaunchSpec> {
    const java = await requireJava();
    // The broker port is checked by the caller; a busy controller port would only show up as a fatal error deep in the log.
    if (await portAcceptsConnections(cfg.kafkaControllerPort)) {
      throw new Error(`kafka: controller port ${cfg.kafkaControllerPort} is taken by another program; free it or set KAFKA_CONTROLLER_PORT`);
    }
    const dir = serviceDataDir(cfg, 'kafka');
    const logDir = join(dir, 'data');
    const propsFile = join(dir, 'server.properties');
    await mkdir(logDir, { recursive: true });
    await writeFile(propsFile, serverProperties(cfg, logDir));

    if (!(await isFormatted(logDir))) {
      progress('kafka: formatting storage (first start)');
      const heap = ['-Xmx256m'];
      const clusterId = (await runChecked(java, javaArgs(cfg, heap, 'kafka.tools.StorageTool', ['random-uuid']))).trim().split('\n').pop()!;
      // --standalone: this node is the whole (dynamic) controller quorum.
      await runChecked(
        java,
        javaArgs(cfg, heap, 'kafka.tools.StorageTool', ['format', '--standalone', '-t', clusterId, '-c', propsFile, '--ignore-formatted']),
      );
    }

    return {
      cmd: java,
      args: javaArgs(cfg, ['-Xms256m', '-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError'], 'kafka.Kafka', [propsFile]),
      cwd: dir,
    };
  },

  isAnswering: (cfg) => kafkaAnswersMetadata(cfg.kafkaPort),

  afterReady: (cfg) => warmUpGroupCoordinator(cfg.kafkaPort),
};
