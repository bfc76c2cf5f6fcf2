import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `kafka` is the single combined node (broker and controller in one process);
 * a cluster of several brokers runs `kafka-controller` and `kafka-1`…`kafka-N`.
 */
export type KafkaNodeName = 'kafka' | 'kafka-controller' | `kafka-${number}`;
export type ServiceName = KafkaNodeName | 'registry' | 'redis';

/** The most brokers `stack up --brokers` starts: each is a JVM on this one machine. */
export const MAX_KAFKA_BROKERS = 9;

export interface StackConfig {
  /** Folder holding every service's data, logs and pid files (e.g. <repo>/.data/stack). */
  dataDir: string;
  /** Downloads shared between clones (jars, tarballs), kept outside git. */
  cacheDir: string;
  /** Port of the single node, or of broker 1; broker n listens on kafkaPort + 2(n-1) (see kafkaBrokerPorts). */
  kafkaPort: number;
  kafkaControllerPort: number;
  /**
   * 1: one combined broker-controller node, as `npm start` has always run.
   * More: one controller and this many brokers, with replication factor
   * min(3, n) and min.insync.replicas one less (see kafka.ts).
   */
  kafkaBrokerCount: number;
  registryPort: number;
  redisPort: number;
}

/** compose/local/ -> repository root; the default data folder lives there. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Folder of this module: pom.xml and log4j2.properties are read from here. */
export const LOCAL_STACK_DIR = fileURLToPath(new URL('./', import.meta.url));

function portFrom(env: NodeJS.ProcessEnv, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${key}=${raw} is not a TCP port (1-65535)`);
  }
  return port;
}

/** A broker count as `--brokers` takes it. */
export function parseBrokerCount(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_KAFKA_BROKERS) throw new Error(`--brokers ${raw}: expected a whole number from 1 to ${MAX_KAFKA_BROKERS}`);
  return n;
}

/**
 * The broker count the last `stack up` ran with, kept in the data folder, so
 * `down`, `status` and `npm start` find the brokers `up --brokers 3` started
 * without being told again.
 */
export function brokerCountFile(dataDir: string): string {
  return join(dataDir, 'kafka-brokers');
}

/** 1 when nothing was recorded (a stack from before `--brokers`, or none yet). */
export function recordedBrokerCount(dataDir: string): number {
  try {
    return parseBrokerCount(readFileSync(brokerCountFile(dataDir), 'utf8').trim());
  } catch {
    return 1;
  }
}

export function stackConfigFromEnv(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const dataRoot = env.AUTOPILOT_DATA_DIR ? resolve(env.AUTOPILOT_DATA_DIR) : join(REPO_ROOT, '.data');
  const cacheDir = env.AUTOPILOT_CACHE_DIR ? resolve(env.AUTOPILOT_CACHE_DIR) : join(homedir(), '.cache', 'autopilot');
  const dataDir = join(dataRoot, 'stack');
  return {
    dataDir,
    cacheDir,
    kafkaPort: portFrom(env, 'KAFKA_PORT', 9092),
    kafkaControllerPort: portFrom(env, 'KAFKA_CONTROLLER_PORT', 9093),
    kafkaBrokerCount: recordedBrokerCount(dataDir),
    registryPort: portFrom(env, 'SCHEMA_REGISTRY_PORT', 8081),
    redisPort: portFrom(env, 'REDIS_PORT', 6379),
  };
}

/**
 * Broker ports: 9092, 9094, 9096… by default. Every other port, so the
 * controller keeps 9093 whatever the count, as it has on one node.
 */
export function kafkaBrokerPorts(cfg: StackConfig): number[] {
  return Array.from({ length: cfg.kafkaBrokerCount }, (_, i) => cfg.kafkaPort + 2 * i);
}

/** Refuses a layout whose services would share a port (a moved KAFKA_CONTROLLER_PORT among the brokers' ports, say). */
export function assertDistinctPorts(cfg: StackConfig): void {
  const ports = [...kafkaBrokerPorts(cfg), cfg.kafkaControllerPort, cfg.registryPort, cfg.redisPort];
  const taken = ports.filter((p, i) => ports.indexOf(p) !== i);
  if (taken.length > 0) {
    throw new Error(
      `local stack: port ${taken[0]} is given to two services (brokers on ${kafkaBrokerPorts(cfg).join(', ')}, controller ${cfg.kafkaControllerPort}, registry ${cfg.registryPort}, redis ${cfg.redisPort}); move KAFKA_CONTROLLER_PORT or KAFKA_PORT`,
    );
  }
}

export function stackUrls(cfg: StackConfig): { kafkaBrokers: string; schemaRegistryUrl: string; redisUrl: string } {
  return {
    kafkaBrokers: kafkaBrokerPorts(cfg)
      .map((p) => `localhost:${p}`)
      .join(','),
    schemaRegistryUrl: `http://localhost:${cfg.registryPort}/apis/ccompat/v7`,
    redisUrl: `redis://localhost:${cfg.redisPort}`,
  };
}

export function serviceDataDir(cfg: StackConfig, name: ServiceName): string {
  return join(cfg.dataDir, name);
}

export function serviceLogFile(cfg: StackConfig, name: ServiceName): string {
  return join(cfg.dataDir, 'logs', `${name}.log`);
}

export function servicePidFile(cfg: StackConfig, name: ServiceName): string {
  return join(cfg.dataDir, 'pids', `${name}.pid`);
}
