import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../lib/config.ts';
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
  type ServiceName,
} from '../compose/local/stack.ts';
import { runGatewayCluster } from '../gateway/cluster.ts';
import { createLogger } from '../lib/log.ts';
import { askCommand } from './ask.ts';
import { detectCommand } from './detect.ts';
import { COMPONENTS, runComponents, type Component } from './run.ts';
import { sqlCommand } from './sql.ts';
import { startAll } from './start.ts';

const HELP = `autopilot — streaming AIOps pipeline

Usage:
  autopilot start                       local stack + every component in one process (npm start)
  autopilot run <component>             one component per process: ${COMPONENTS.join(' | ')}
  autopilot stack up|down|status|fetch  the native local stack (Kafka, schema registry, Redis)
  autopilot stack up --brokers 3        Kafka as three brokers and a controller (replication 3, min.insync 2);
                                        later commands and npm start use the count of the last up
  autopilot stack start|stop <service>  one service: kafka | registry | redis (kafka-controller, kafka-1… with --brokers)
  autopilot sql "<SELECT …>" [--json]   read-only query against ClickHouse
  autopilot detect --input FILE [opts]  backtest the detector on a timestamp,value CSV (detect --help)
  autopilot ask "<question>" [--session ID] [--json]  ask the ops assistant of a running Autopilot
  autopilot help

Configuration is read from the environment; see README.md.`;

const say = (msg: string) => process.stderr.write(`${msg}\n`);

async function main(argv: string[]): Promise<void> {
  // detect and ask have options of their own, which the strict parse below would reject.
  if (argv[0] === 'detect') return detectCommand(argv.slice(1));
  if (argv[0] === 'ask') return askCommand(argv.slice(1), loadConfig());
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, brokers: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, arg] = positionals;
  if (values.help || !command || command === 'help') return void console.log(HELP);

  switch (command) {
    case 'start':
      return startAll();
    case 'run': {
      if (!arg || !(COMPONENTS as readonly string[]).includes(arg)) throw new UsageError(`run needs a component: ${COMPONENTS.join(' | ')}`);
      const config = loadConfig();
      // The gateway alone runs as a cluster; its workers re-enter here and run it in-process.
      if (arg === 'gateway' && cluster.isPrimary && config.gatewayWorkers > 1) return runGatewayCluster(config, createLogger('gateway'));
      return runComponents([arg as Component], config);
    }
    case 'stack':
      return stackCommand(arg, positionals[2], values.brokers);
    case 'sql':
      if (!arg) throw new UsageError('sql needs a query: autopilot sql "SELECT 1"');
      return sqlCommand(arg, loadConfig(), values.json ? 'json' : 'table');
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

async function stackCommand(action: string | undefined, service: string | undefined, brokers: string | undefined): Promise<void> {
  const cfg = stackConfigFromEnv();
  // Only `up` chooses the layout; every other action works on the one the last `up` recorded.
  if (brokers !== undefined) {
    if (action !== 'up') throw new UsageError('--brokers goes with stack up');
    try {
      cfg.kafkaBrokerCount = parseBrokerCount(brokers);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const serviceName = () => {
    const names = serviceNames(cfg);
    if (!service || !(names as string[]).includes(service)) throw new UsageError(`expected a service: ${names.join(' | ')}`);
    return service as ServiceName;
  };
  switch (action) {
    case 'up':
      await stackUp(cfg, say);
      await printStatus(cfg);
      return void console.log(`KAFKA_BROKERS=${stackUrls(cfg).kafkaBrokers}`);
    case 'down':
      return stackDown(cfg, say);
    case 'status':
      return printStatus(cfg);
    case 'fetch':
      return stackFetch(cfg, say);
    case 'start':
      return startService(cfg, serviceName(), say);
    case 'stop':
      return stopService(cfg, serviceName(), say);
    default:
      throw new UsageError('stack needs up | down | status | fetch | start <service> | stop <service>');
  }
}

async function printStatus(cfg: ReturnType<typeof stackConfigFromEnv>): Promise<void> {
  for (const s of await stackStatus(cfg)) {
    const state = s.running ? 'running' : 'stopped';
    console.log(
      `${s.name.padEnd(16)} ${state.padEnd(8)} port ${String(s.port).padEnd(6)} answering ${s.answering ? 'yes' : 'no '}  pid ${s.pid ?? '-'}  log ${s.log}`,
    );
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) say(`autopilot: ${err.message}\n\n${HELP}`);
  else if (err instanceof ConfigError) say(`autopilot: ${err.message}`);
  else say(`autopilot: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
