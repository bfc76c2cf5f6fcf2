/**
 * Standalone entry for the native stack, handy without the full CLI:
 *   npx tsx compose/local/main.ts up|down|status|fetch
 *   npx tsx compose/local/main.ts start|stop kafka|registry|redis
 */
import { SERVICE_NAMES, type ServiceName } from './config.ts';
import { stackConfigFromEnv, stackDown, stackFetch, stackStatus, stackUp, stackUrls, startService, stopService, type ServiceStatus } from './stack.ts';

const USAGE = 'usage: main.ts up | down | status | fetch | start <service> | stop <service>';

function progress(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function printStatus(statuses: ServiceStatus[]): void {
  for (const s of statuses) {
    const state = s.external ? 'external' : s.running ? 'running' : 'stopped';
    const pid = s.pid === undefined ? '-' : String(s.pid);
    console.log(
      `${s.name.padEnd(9)} ${state.padEnd(9)} pid ${pid.padEnd(8)} port ${String(s.port).padEnd(6)} answering ${s.answering ? 'yes' : 'no'}  ${s.log}`,
    );
  }
}

function serviceArg(value: string | undefined): ServiceName {
  if (!value || !(SERVICE_NAMES as readonly string[]).includes(value)) {
    throw new Error(`expected a service name (${SERVICE_NAMES.join(', ')}), got '${value ?? ''}'`);
  }
  return value as ServiceName;
}

async function main(argv: string[]): Promise<void> {
  const cfg = stackConfigFromEnv();
  const [command, arg] = argv;
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
      await startService(cfg, serviceArg(arg), progress);
      break;
    case 'stop':
      await stopService(cfg, serviceArg(arg), progress);
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
