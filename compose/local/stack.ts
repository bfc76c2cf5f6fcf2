/**
 * The native local stack: Kafka (KRaft), Apicurio Registry and Redis run as
 * plain processes, no Docker. Jars are cached under cfg.cacheDir; data, logs
 * and pid files live under cfg.dataDir. Services outlive the calling process.
 */
import { mkdir } from 'node:fs/promises';
import { SERVICE_NAMES, type ServiceName, type StackConfig } from './config.ts';
import { kafkaService } from './kafka.ts';
import { ensureRunning, serviceStatus, stopIfOurs, type ServiceStatus } from './lifecycle.ts';
import { redisService } from './redis.ts';
import { registryService } from './registry.ts';
import type { Progress, ServiceDefinition } from './service.ts';

export { stackConfigFromEnv, stackUrls, SERVICE_NAMES } from './config.ts';
export type { ServiceName, StackConfig } from './config.ts';
export type { ServiceStatus } from './lifecycle.ts';

const SERVICES: Record<ServiceName, ServiceDefinition> = {
  kafka: kafkaService,
  registry: registryService,
  redis: redisService,
};

const quiet: Progress = () => {};

function definition(name: ServiceName): ServiceDefinition {
  const def = SERVICES[name];
  if (!def) throw new Error(`unknown service '${name}' (expected one of ${SERVICE_NAMES.join(', ')})`);
  return def;
}

/** Runs `task` for every service at once and reports every failure, not just the first. */
async function forEachService(task: (def: ServiceDefinition) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(SERVICE_NAMES.map((name) => task(definition(name))));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
  if (failures.length > 0) throw new Error(`local stack: ${failures.join('\n\n')}`);
}

/**
 * Downloads/installs everything the stack needs without starting it.
 * The two Maven runs go one after the other: they share ~/.m2.
 */
export async function stackFetch(cfg: StackConfig, onProgress: Progress = quiet): Promise<void> {
  await mkdir(cfg.cacheDir, { recursive: true });
  const jars = (async () => {
    await kafkaService.fetch(cfg, onProgress);
    await registryService.fetch(cfg, onProgress);
  })();
  await Promise.all([jars, redisService.fetch(cfg, onProgress)]);
}

export async function stackUp(cfg: StackConfig, onProgress: Progress = quiet): Promise<ServiceStatus[]> {
  await mkdir(cfg.dataDir, { recursive: true });
  await stackFetch(cfg, onProgress);
  // In parallel: Kafka and Apicurio are both JVMs with a few seconds of boot each.
  await forEachService((def) => ensureRunning(cfg, def, onProgress));
  return stackStatus(cfg);
}

export async function stackDown(cfg: StackConfig, onProgress: Progress = quiet): Promise<void> {
  await forEachService((def) => stopIfOurs(cfg, def, onProgress));
}

export async function stackStatus(cfg: StackConfig): Promise<ServiceStatus[]> {
  return Promise.all(SERVICE_NAMES.map((name) => serviceStatus(cfg, definition(name))));
}

/** Starts one service (fetching it first if needed) and waits until it answers. */
export async function startService(cfg: StackConfig, name: ServiceName, onProgress: Progress = quiet): Promise<void> {
  const def = definition(name);
  await mkdir(cfg.dataDir, { recursive: true });
  await def.fetch(cfg, onProgress);
  await ensureRunning(cfg, def, onProgress);
}

/** Stops one service if this stack started it; its data stays. */
export async function stopService(cfg: StackConfig, name: ServiceName, onProgress: Progress = quiet): Promise<void> {
  await stopIfOurs(cfg, definition(name), onProgress);
}
