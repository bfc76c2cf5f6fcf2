/**
 * Standalone entry for the native stack, handy without the full CLI:
 *   npx tsx compose/local/main.ts up [--brokers N]|down|status|fetch
 *   npx tsx compose/local/main.ts start|stop kafka|registry|redis (kafka-controller, kafka-1… after up --brokers N)
 */
import { parseArgs } from 'node:util';
import type { ServiceName, StackConfig } from './config.ts';
import {
  parseBrokerCount,
  serviceNames,
  stackConfigFromEnv,
  stackDown,
  stackFetch,
  stackStatus,
  stackUp,
  stackUrls,
  startService,
  stopService,
  type ServiceStatus,
} from './stack.ts';

const USAGE = 'usage: main.ts up [--brokers N] | down | status | fetch | start <service> | stop <service>';

function progress(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function printStatus(statuses: ServiceStatus[]): void {
  for (const s of statuses) {
    const state = s.external ? 'external' : s.running ? 'running' : 'stopped';
    const pid = s.pid === undefined ? '-' : String(s.pid);
    console.log(
      `${s.name.padEnd(16)} ${state.padEnd(9)} pid ${pid.padEnd(8)} port ${String(s.port).padEnd(6)} answering ${s.answering ? 'yes' : 'no'}  ${s.log}`,
    );
  }
}

function serviceArg(cfg: StackConfig, value: string | undefined): ServiceName {
  const names = serviceNames(cfg);
  if (!value || !(names as string[]).includes(value)) {
    throw new Error(`expected a service name (${names.join(', ')}), got '${value ?? ''}'`);
  }
  return value as ServiceName;
}

async function main(argv: string[]): Promise<void> {
  const cfg = stackConfigFromEnv();
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { brokers: { type: 'string' } } });
  const [command, arg] = positionals;
  if (values.brokers !== undefined) {
    if (command !== 'up') throw new Error('--brokers goes with up');
    cfg.kafkaBrokerCount = parseBrokerCount(values.brokers);
  }
  const started = Date.now();
  switch (command) {
    case 'up': {
      printStatus(await stackUp(cfg, progress));
      const urls = stackUrls(cfg);
      console.log(`KAFKA_BROKERS=${urls.kafkaBrokers}\nSCHEMA_REGISTRY_URL=${urls.schemaRegistryUrl}\nREDIS_URL=${urls.redisUrl}`);
      break;
    }
    case 'down':
      await stackDown(cfg, progress);
      break;
    case 'status':
      printStatus(await stackStatus(cfg));
      return;
    case 'fetch':
      await stackFetch(cfg, progress);
      break;
    case 'start':
      await startService(cfg, serviceArg(cfg, arg), progress);
      break;
    case 'stop':
      await stopService(cfg, serviceArg(cfg, arg), progress);
      break;
    default:
      throw new Error(USAGE);
  }
  progress(`${command}: done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
