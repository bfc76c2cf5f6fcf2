import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../../compose/local/process.ts';
import { kafkaDown, kafkaUp, stackConfigFromEnv, stackStatus, stackUrls, startService, stopService, type StackConfig } from '../../compose/local/stack.ts';

/**
 * A Kafka cluster of a test's own, run as `autopilot stack up --brokers N`
 * runs it (compose/local: a KRaft controller and N brokers, replication
 * min(3, N), min.insync.replicas one less), on ports and in a folder apart
 * from the suite's one-broker stack, whose registry and Redis it shares.
 * The folder lives outside the suite's (which global setup wipes), so a run
 * that died leaves pid files the next run uses to stop what it left behind.
 */
export interface KafkaCluster {
  cfg: StackConfig;
  /** `KAFKA_BROKERS` for the pipeline: every broker. */
  brokers: string;
  /** SIGKILLs broker n (1-based), a crash with no controlled shutdown; resolves once it is gone. */
  kill(n: number): Promise<void>;
  /** Stops broker n cleanly: its controlled shutdown moves its leaders and takes it out of every ISR first. */
  stop(n: number): Promise<void>;
  start(n: number): Promise<void>;
  /** Stops every node, brokers before the controller. */
  down(): Promise<void>;
}

/** Same offset as test/helpers/stack-env.ts; the cluster takes the two ports after the suite's broker and controller, then every other one. */
const offset = Number(process.env.AUTOPILOT_TEST_PORT_OFFSET ?? 0);

export async function startKafkaCluster(brokers: number, say: (msg: string) => void = () => {}): Promise<KafkaCluster> {
  const cfg: StackConfig = {
    ...stackConfigFromEnv({
      AUTOPILOT_DATA_DIR: path.resolve(import.meta.dirname, `../../.data/test-cluster${offset ? `-${offset}` : ''}`),
      // Brokers on 49094, 49096, 49098… (+ offset), the controller on 49095: the suite's Kafka keeps 49092 and 49093.
      KAFKA_PORT: String(49094 + offset),
      KAFKA_CONTROLLER_PORT: String(49095 + offset),
      // Never started here (kafkaUp starts Kafka alone); given only so no port is shared.
      SCHEMA_REGISTRY_PORT: String(48082 + offset),
      REDIS_PORT: String(46380 + offset),
    }),
    kafkaBrokerCount: brokers,
  };
  await kafkaDown(cfg);
  await rm(path.dirname(cfg.dataDir), { recursive: true, force: true });
  try {
    await kafkaUp(cfg, say);
  } catch (err) {
    await kafkaDown(cfg);
    throw err;
  }
  const pidOf = async (n: number) => {
    const pid = (await stackStatus(cfg)).find((s) => s.name === `kafka-${n}`)?.pid;
    if (pid === undefined) throw new Error(`kafka-${n} is not running`);
    return pid;
  };
  return {
    cfg,
    brokers: stackUrls(cfg).kafkaBrokers,
    async kill(n) {
      const pid = await pidOf(n);
      process.kill(-pid, 'SIGKILL'); // its process group, as the stack started it
      while (isAlive(pid)) await sleep(20);
    },
    stop: (n) => stopService(cfg, `kafka-${n}`),
    start: (n) => startService(cfg, `kafka-${n}`),
    down: () => kafkaDown(cfg),
  };
}
