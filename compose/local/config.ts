import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ServiceName = 'kafka' | 'registry' | 'redis';

/** Start order matters only for reporting; the services do not depend on each other. */
export const SERVICE_NAMES: readonly ServiceName[] = ['kafka', 'registry', 'redis'];

export interface StackConfig {
  /** Folder holding every service's data, logs and pid files (e.g. <repo>/.data/stack). */
  dataDir: string;
  /** Downloads shared between clones (jars, tarballs), kept outside git. */
  cacheDir: string;
  kafkaPort: number;
  kafkaControllerPort: number;
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

export function stackConfigFromEnv(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const dataRoot = env.AUTOPILOT_DATA_DIR ? resolve(env.AUTOPILOT_DATA_DIR) : join(REPO_ROOT, '.data');
  const cacheDir = env.AUTOPILOT_CACHE_DIR ? resolve(env.AUTOPILOT_CACHE_DIR) : join(homedir(), '.cache', 'autopilot');
  return {
    dataDir: join(dataRoot, 'stack'),
    cacheDir,
    kafkaPort: portFrom(env, 'KAFKA_PORT', 9092),
    kafkaControllerPort: portFrom(env, 'KAFKA_CONTROLLER_PORT', 9093),
    registryPort: portFrom(env, 'SCHEMA_REGISTRY_PORT', 8081),
    redisPort: portFrom(env, 'REDIS_PORT', 6379),
  };
}

export function stackUrls(cfg: StackConfig): { kafkaBrokers: string; schemaRegistryUrl: string; redisUrl: string } {
  return {
    kafkaBrokers: `localhost:${cfg.kafkaPort}`,
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
