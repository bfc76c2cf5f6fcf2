import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fillCacheDir, isCached } from './cache.ts';
import { runChecked } from './commands.ts';
import { kafkaBrokerPorts, LOCAL_STACK_DIR, serviceDataDir, type KafkaNodeName, type StackConfig } from './config.ts';
import { requireJava, runMaven } from './maven.ts';
import { kafkaAnswersApiVersions, kafkaAnswersMetadata, portAcceptsConnections, warmUpGroupCoordinator } from './probes.ts';
import type { LaunchSpec } from './process.ts';
import type { Progress, ServiceDefinition } from './service.ts';

/** Latest 4.1 patch on Maven Central; runs on Java 17. */
const KAFKA_VERSION = '4.1.1';

const LOG4J_CONFIG = join(LOCAL_STACK_DIR, 'log4j2.properties');

const BROKER_HEAP = ['-Xms256m', '-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError'];
/** A controller holds only the cluster's metadata. */
const CONTROLLER_HEAP = ['-Xms128m', '-Xmx256m', '-XX:+UseG1GC', '-XX:+ExitOnOutOfMemoryError'];

/** Node ids: the single node is 1 (as it always was); in a cluster the controller is 0 and broker n is n. */
const CONTROLLER_NODE_ID = 0;

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

/**
 * Replication of a cluster of `brokers`: three copies where there are three
 * brokers to hold them, and acks=all needing all but one, so one broker can
 * stop without refusing a write (Kafka's own advice for production). With one
 * broker that is 1 and 1; Kafka's defaults (1 and 1) hold for anything the
 * application creates without saying otherwise.
 */
export function clusterReplication(brokers: number): { factor: number; minInsync: number } {
  const factor = Math.min(3, brokers);
  return { factor, minInsync: Math.max(1, factor - 1) };
}

/** What every node that hosts partitions says about topics, internal and Autopilot's alike. */
function topicDefaults(brokers: number): string[] {
  const { factor, minInsync } = clusterReplication(brokers);
  return [
    'num.partitions=3',
    // The application creates its topics explicitly; a typo must not silently make a new one.
    'auto.create.topics.enable=false',
    // Topics created without a replication factor (Autopilot's, by default) get these.
    `default.replication.factor=${factor}`,
    `min.insync.replicas=${minInsync}`,
    `offsets.topic.replication.factor=${factor}`,
    'offsets.topic.num.partitions=10',
    `transaction.state.log.replication.factor=${factor}`,
    `transaction.state.log.min.isr=${minInsync}`,
    'transaction.state.log.num.partitions=10',
    `share.coordinator.state.topic.replication.factor=${factor}`,
    `share.coordinator.state.topic.min.isr=${minInsync}`,
    // Consumers in tests join one at a time; waiting 3 s for more members only slows them down.
    'group.initial.rebalance.delay.ms=0',
  ];
}

const HEADER = '# Written by compose/local/kafka.ts on every start; edits here are overwritten.';

function singleNodeProperties(cfg: StackConfig, logDir: string): string {
  const p = cfg.kafkaPort;
  const c = cfg.kafkaControllerPort;
  return [
    HEADER,
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=localhost:${c}`,
    `listeners=PLAINTEXT://:${p},CONTROLLER://:${c}`,
    `advertised.listeners=PLAINTEXT://localhost:${p},CONTROLLER://localhost:${c}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${logDir}`,
    ...topicDefaults(1),
    'num.network.threads=2',
    'num.io.threads=4',
    '',
  ].join('\n');
}

/**
 * The controller of a cluster: a quorum of one, which holds the metadata and
 * places replicas. Topic defaults are set here too: in KRaft the controller,
 * not the broker a client asks, applies default.replication.factor and
 * num.partitions to a topic created without them.
 */
function controllerProperties(cfg: StackConfig, logDir: string): string {
  const c = cfg.kafkaControllerPort;
  return [
    HEADER,
    'process.roles=controller',
    `node.id=${CONTROLLER_NODE_ID}`,
    `controller.quorum.bootstrap.servers=localhost:${c}`,
    `listeners=CONTROLLER://:${c}`,
    `advertised.listeners=CONTROLLER://localhost:${c}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT',
    `log.dirs=${logDir}`,
    ...topicDefaults(cfg.kafkaBrokerCount),
    '',
  ].join('\n');
}

function brokerProperties(cfg: StackConfig, n: number, logDir: string): string {
  const p = kafkaBrokerPorts(cfg)[n - 1]!;
  return [
    HEADER,
    'process.roles=broker',
    `node.id=${n}`,
    `controller.quorum.bootstrap.servers=localhost:${cfg.kafkaControllerPort}`,
    `listeners=PLAINTEXT://:${p}`,
    `advertised.listeners=PLAINTEXT://localhost:${p}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${logDir}`,
    ...topicDefaults(cfg.kafkaBrokerCount),
    'num.network.threads=2',
    'num.io.threads=4',
    '',
  ].join('\n');
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Kafka's Uuid.randomUuid(): 16 random bytes, base64url without padding, never starting with '-'. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Every node of a cluster is formatted with the same cluster id; it is kept
 * beside the controller's data, and made by whichever node starts first
 * (`wx`: two nodes starting at once agree on the first one written).
 */
async function sharedClusterId(cfg: StackConfig): Promise<string> {
  const file = join(serviceDataDir(cfg, 'kafka-controller'), 'cluster-id');
  await mkdir(serviceDataDir(cfg, 'kafka-controller'), { recursive: true });
  try {
    await writeFile(file, `${newClusterId()}\n`, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return (await readFile(file, 'utf8')).trim();
}

/** What differs between the single node, a controller and a broker. */
interface NodeSpec {
  name: KafkaNodeName;
  properties(cfg: StackConfig, logDir: string): string;
  clusterId(cfg: StackConfig): Promise<string>;
  /** The StorageTool's quorum flag: a controller is the whole (dynamic) quorum; a broker only joins it. */
  formatFlags: string[];
  heap: string[];
}

async function fetchKafka(cfg: StackConfig, progress: Progress): Promise<void> {
  const home = kafkaHome(cfg);
  if (await isCached(home)) return;
  await requireJava();
  progress(`kafka: downloading Kafka ${KAFKA_VERSION} jars from Maven Central into ${home}`);
  await fillCacheDir(home, async (tmp) => {
    await runMaven([`-Dkafka.version=${KAFKA_VERSION}`, 'dependency:copy-dependencies', `-DoutputDirectory=${join(tmp, 'lib')}`]);
  });
}

/** Writes the node's properties, formats its storage on first start, and says how to run it. */
async function prepareNode(cfg: StackConfig, node: NodeSpec, progress: Progress): Promise<LaunchSpec> {
  const java = await requireJava();
  const dir = serviceDataDir(cfg, node.name);
  const logDir = join(dir, 'data');
  const propsFile = join(dir, 'server.properties');
  await mkdir(logDir, { recursive: true });
  await writeFile(propsFile, node.properties(cfg, logDir));
  if (!(await exists(join(logDir, 'meta.properties')))) {
    progress(`${node.name}: formatting storage (first start)`);
    const clusterId = await node.clusterId(cfg);
    await runChecked(
      java,
      javaArgs(cfg, ['-Xmx256m'], 'kafka.tools.StorageTool', ['format', ...node.formatFlags, '-t', clusterId, '-c', propsFile, '--ignore-formatted']),
    );
  }
  return { cmd: java, args: javaArgs(cfg, node.heap, 'kafka.Kafka', [propsFile]), cwd: dir };
}

/** A busy controller port would only show up as a fatal error deep in the log; the caller checks only the client port. */
async function controllerPortFree(cfg: StackConfig, name: string): Promise<void> {
  if (await portAcceptsConnections(cfg.kafkaControllerPort)) {
    throw new Error(`${name}: controller port ${cfg.kafkaControllerPort} is taken by another program; free it or set KAFKA_CONTROLLER_PORT`);
  }
}

const JVM_SERVICE = {
  processMarker: 'kafka.Kafka',
  bootTimeoutMs: 120_000,
  // A controlled shutdown normally takes a few seconds (a broker's needs the controller up: stop it last).
  stopGraceMs: 30_000,
  fetch: fetchKafka,
};

/** One node that is both broker and controller: `npm start`'s Kafka. */
export const kafkaService: ServiceDefinition = {
  ...JVM_SERVICE,
  name: 'kafka',
  port: (cfg) => cfg.kafkaPort,
  async prepareLaunch(cfg, progress) {
    await controllerPortFree(cfg, 'kafka');
    return prepareNode(
      cfg,
      { name: 'kafka', properties: singleNodeProperties, clusterId: async () => newClusterId(), formatFlags: ['--standalone'], heap: BROKER_HEAP },
      progress,
    );
  },
  isAnswering: (cfg) => kafkaAnswersMetadata(cfg.kafkaPort),
  afterReady: (cfg) => warmUpGroupCoordinator(cfg.kafkaPort),
};

/** The controller of `stack up --brokers N` (N > 1). */
export const kafkaControllerService: ServiceDefinition = {
  ...JVM_SERVICE,
  name: 'kafka-controller',
  port: (cfg) => cfg.kafkaControllerPort,
  prepareLaunch: (cfg, progress) =>
    prepareNode(
      cfg,
      { name: 'kafka-controller', properties: controllerProperties, clusterId: sharedClusterId, formatFlags: ['--standalone'], heap: CONTROLLER_HEAP },
      progress,
    ),
  isAnswering: (cfg) => kafkaAnswersApiVersions(cfg.kafkaControllerPort),
};

/** Broker n (1-based) of `stack up --brokers N`, on the n-th of kafkaBrokerPorts. */
export function kafkaBrokerService(n: number): ServiceDefinition {
  const name: KafkaNodeName = `kafka-${n}`;
  const port = (cfg: StackConfig) => kafkaBrokerPorts(cfg)[n - 1]!;
  return {
    ...JVM_SERVICE,
    name,
    port,
    prepareLaunch: (cfg, progress) =>
      prepareNode(
        cfg,
        { name, properties: (c, logDir) => brokerProperties(c, n, logDir), clusterId: sharedClusterId, formatFlags: [], heap: BROKER_HEAP },
        progress,
      ),
    // Ready once the controller has it among the cluster's brokers, not merely once its port is open.
    isAnswering: (cfg) => kafkaAnswersMetadata(port(cfg), { nodeId: n }),
    // __consumer_offsets needs as many live brokers as its replication factor: this waits for the others too.
    afterReady: (cfg) => warmUpGroupCoordinator(port(cfg)),
  };
}

/** The Kafka services of this layout: the single node, or the controller and every broker. */
export function kafkaServices(cfg: StackConfig): ServiceDefinition[] {
  if (cfg.kafkaBrokerCount === 1) return [kafkaService];
  return [kafkaControllerService, ...Array.from({ length: cfg.kafkaBrokerCount }, (_, i) => kafkaBrokerService(i + 1))];
}
