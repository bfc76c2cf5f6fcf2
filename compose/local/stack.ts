/**
 * The native local stack: Kafka (KRaft), Apicurio Registry and Redis run as
 * plain processes, no Docker. Jars are cached under cfg.cacheDir; data, logs
 * and pid files live under cfg.dataDir. Services outlive the calling process.
 * Kafka is one combined node, or (cfg.kafkaBrokerCount > 1) a controller and
 * that many brokers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { assertDistinctPorts, brokerCountFile, recordedBrokerCount, type ServiceName, type StackConfig } from './config.ts';
import { kafkaService, kafkaServices } from './kafka.ts';
import { ensureRunning, serviceStatus, stopIfOurs, type ServiceStatus } from './lifecycle.ts';
import { redisService } from './redis.ts';
import { registryService } from './registry.ts';
import type { Progress, ServiceDefinition } from './service.ts';

export { kafkaBrokerPorts, parseBrokerCount, stackConfigFromEnv, stackUrls } from './config.ts';
export type { ServiceName, StackConfig } from './config.ts';
export type { ServiceStatus } from './lifecycle.ts';

const quiet: Progress = () => {};

/** Every service of this layout, Kafka's first. */
function services(cfg: StackConfig): ServiceDefinition[] {
  return [...kafkaServices(cfg), registryService, redisService];
}

/** The names `stack start|stop <service>` takes in this layout. */
export function serviceNames(cfg: StackConfig): ServiceName[] {
  return services(cfg).map((def) => def.name);
}

function definition(cfg: StackConfig, name: ServiceName): ServiceDefinition {
  const def = services(cfg).find((d) => d.name === name);
  if (!def) throw new Error(`unknown service '${name}' (expected one of ${serviceNames(cfg).join(', ')})`);
  return def;
}

/** Runs `task` for every service given at once and reports every failure, not just the first. */
async function forEach(defs: ServiceDefinition[], task: (def: ServiceDefinition) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(defs.map(task));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
  if (failures.length > 0) throw new Error(`local stack: ${failures.join('\n\n')}`);
}

/**
 * Stops `defs`, a controller after everything else: a broker's controlled
 * shutdown (leaders moved, the broker out of every ISR) needs the controller
 * there to answer, or it waits out its grace and is killed.
 */
async function stopInOrder(cfg: StackConfig, defs: ServiceDefinition[], progress: Progress): Promise<void> {
  const last = defs.filter((d) => d.name === 'kafka-controller');
  await forEach(
    defs.filter((d) => !last.includes(d)),
    (def) => stopIfOurs(cfg, def, progress),
  );
  await forEach(last, (def) => stopIfOurs(cfg, def, progress));
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

/**
 * Refuses to start a layout beside another one still running (the other's
 * brokers hold the ports), and records this one for the next `down`,
 * `status` or `npm start`. Each layout keeps its own data folders, so
 * switching back finds that cluster's topics again.
 */
async function switchLayout(cfg: StackConfig): Promise<void> {
  const recorded = { ...cfg, kafkaBrokerCount: recordedBrokerCount(cfg.dataDir) };
  if (recorded.kafkaBrokerCount !== cfg.kafkaBrokerCount) {
    const running = (await Promise.all(kafkaServices(recorded).map((def) => serviceStatus(recorded, def)))).filter((s) => s.pid !== undefined);
    if (running.length > 0) {
      throw new Error(
        `local stack: Kafka runs with ${recorded.kafkaBrokerCount} broker(s) (${running.map((s) => s.name).join(', ')}); stop it first (autopilot stack down), then up --brokers ${cfg.kafkaBrokerCount}`,
      );
    }
  }
  await writeFile(brokerCountFile(cfg.dataDir), `${cfg.kafkaBrokerCount}\n`);
}

export async function stackUp(cfg: StackConfig, onProgress: Progress = quiet): Promise<ServiceStatus[]> {
  assertDistinctPorts(cfg);
  await mkdir(cfg.dataDir, { recursive: true });
  await switchLayout(cfg);
  await stackFetch(cfg, onProgress);
  // In parallel: Kafka and Apicurio are JVMs with a few seconds of boot each; brokers wait for their controller themselves.
  await forEach(services(cfg), (def) => ensureRunning(cfg, def, onProgress));
  return stackStatus(cfg);
}

export async function stackDown(cfg: StackConfig, onProgress: Progress = quiet): Promise<void> {
  await stopInOrder(cfg, services(cfg), onProgress);
}

export async function stackStatus(cfg: StackConfig): Promise<ServiceStatus[]> {
  return Promise.all(services(cfg).map((def) => serviceStatus(cfg, def)));
}

/** Kafka alone, every node of this layout (a test's cluster of its own beside the shared registry and Redis). */
export async function kafkaUp(cfg: StackConfig, onProgress: Progress = quiet): Promise<void> {
  assertDistinctPorts(cfg);
  await mkdir(cfg.dataDir, { recursive: true });
  await switchLayout(cfg);
  await kafkaService.fetch(cfg, onProgress);
  await forEach(kafkaServices(cfg), (def) => ensureRunning(cfg, def, onProgress));
}

export async function kafkaDown(cfg: StackConfig, onProgress: Progress = quiet): Promise<void> {
  await stopInOrder(cfg, kafkaServices(cfg), onProgress);
}

/** Starts one service (fetching it first if needed) and waits until it answers. */
export async function startService(cfg: StackConfig, name: ServiceName, onProgress: Progress = quiet): Promise<void> {
  const def = definition(cfg, name);
  await mkdir(cfg.dataDir, { recursive: true });
  await def.fetch(cfg, onProgress);
  await ensureRunning(cfg, def, onProgress);
}

/** Stops one service if this stack started it; its data stays. */
export async function stopService(cfg: StackConfig, name: ServiceName, onProgress: Progress = quiet): Promise<void> {
  await stopIfOurs(cfg, definition(cfg, name), onProgress);
}
