import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * The whole runtime configuration, read once from the environment. Every
 * variable has a default that works with `autopilot stack up`, and bad values
 * stop the process at start with a message naming the variable.
 */
const port = z.coerce.number().int().min(0).max(65535);

const apiKeys = z
  .string()
  .default('')
  .transform((raw, ctx) => {
    const keys = new Map<string, string>(); // key -> tenant
    for (const pair of raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const i = pair.indexOf(':');
      const tenant = pair.slice(0, i).trim();
      const key = pair.slice(i + 1).trim();
      if (i <= 0 || !key || !/^[a-zA-Z0-9_.-]{1,64}$/.test(tenant)) {
        ctx.addIssue({ code: 'custom', message: 'expected tenant:key pairs separated by commas (tenant: letters, digits, _ . -)' });
        return z.NEVER;
      }
      keys.set(key, tenant);
    }
    return keys;
  });

const envSchema = z.object({
  PORT: port.default(8080),
  AUTOPILOT_API_KEYS: apiKeys,
  AUTOPILOT_ADMIN_KEY: z.string().min(8).optional(),
  AUTOPILOT_DATA_DIR: z.string().default('.data'),
  KAFKA_BROKERS: z.string().default('localhost:9092'),
  SCHEMA_REGISTRY_URL: z.string().url().default('http://localhost:8081/apis/ccompat/v7'),
  REDIS_URL: z.string().default('redis://localhost:6379'),
  CLICKHOUSE_URL: z.string().url().optional(),
  /** Consumer groups are <prefix>-<processor>; their Redis state is namespaced the same. Two pipelines on one Kafka need two prefixes. */
  AUTOPILOT_GROUP_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,100}$/)
    .default('autopilot'),
  /** Where a consumer group without committed offsets starts: the whole log (no data left behind) or only what comes next. */
  AUTOPILOT_NEW_GROUP_START: z.enum(['earliest', 'latest']).default('earliest'),
  AUTOPILOT_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(3),
  /**
   * Replicas of each topic Autopilot creates, and how many must have a write
   * before Kafka acknowledges it (acks=all). Unset: the cluster's own
   * defaults (default.replication.factor, min.insync.replicas), which are 1
   * and 1 on one broker and 3 and 2 on `autopilot stack up --brokers 3`.
   */
  AUTOPILOT_TOPIC_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(32).optional(),
  AUTOPILOT_TOPIC_MIN_INSYNC_REPLICAS: z.coerce.number().int().min(1).max(32).optional(),
  AUTOPILOT_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(16 * 1024 * 1024),
  AUTOPILOT_MAX_BATCH: z.coerce.number().int().min(1).default(50_000),
  /** Records per second per tenant; bursts up to one second's worth. 0 = no limit. */
  AUTOPILOT_TENANT_RATE: z.coerce.number().min(0).default(0),
  /**
   * Processes serving `autopilot run gateway` (node:cluster, one producer
   * each). One per core by default: a single gateway process saturates one
   * core on JSON, validation, Avro and kafkajs. 1 = no cluster, in-process.
   */
  GATEWAY_WORKERS: z.coerce.number().int().min(1).max(256).optional(),
  /** Tenant Autopilot writes its own metrics as (lib/self-monitor.ts); unset = no self-monitoring. */
  AUTOPILOT_SELF_TENANT: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]{1,64}$/)
    .optional(),
  AUTOPILOT_SELF_INTERVAL_SECONDS: z.coerce.number().positive().default(15),
  /**
   * Whether GET /metrics, which needs no key (Prometheus scrapes it like any
   * exporter), names tenants. Off: per-tenant series are summed over tenants
   * there. Self-monitoring always keeps the label: it is the self tenant's data.
   */
  AUTOPILOT_METRICS_TENANT_LABELS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** How often the gateway reads ClickHouse for the console's live updates (GET /v1/live), while someone watches. */
  CONSOLE_LIVE_POLL_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
});

export type Config = {
  port: number;
  apiKeys: Map<string, string>;
  adminKey?: string;
  dataDir: string;
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  redisUrl: string;
  clickhouseUrl?: string;
  groupPrefix: string;
  newGroupStart: 'earliest' | 'latest';
  topicPartitions: number;
  /** Unset fields: the cluster's defaults. */
  topicReplication: { factor?: number; minInsync?: number };
  maxBodyBytes: number;
  maxBatch: number;
  tenantRate: number;
  gatewayWorkers: number;
  selfMonitor?: { tenant: string; intervalMs: number };
  metricsTenantLabels: boolean;
  consoleLivePollMs: number;
};

/** The variables a component owns (ROLLUP_*, DETECT_* …), for a strict schema that refuses unknown ones. */
export function variablesWithPrefix(env: NodeJS.ProcessEnv, prefix: string): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith(prefix)));
}

/** OLLAMA_HOST, the variable Ollama's own CLI reads: where the analyst and extraction jobs find the model. */
export function ollamaHost(env: NodeJS.ProcessEnv): string {
  return z
    .string()
    .url()
    .default('http://localhost:11434')
    .parse(env.OLLAMA_HOST || undefined);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  // More replicas required in sync than exist: Kafka would refuse every acks=all write.
  if (
    e.AUTOPILOT_TOPIC_MIN_INSYNC_REPLICAS &&
    e.AUTOPILOT_TOPIC_REPLICATION_FACTOR &&
    e.AUTOPILOT_TOPIC_MIN_INSYNC_REPLICAS > e.AUTOPILOT_TOPIC_REPLICATION_FACTOR
  ) {
    throw new ConfigError(
      `invalid configuration:\n  AUTOPILOT_TOPIC_MIN_INSYNC_REPLICAS: ${e.AUTOPILOT_TOPIC_MIN_INSYNC_REPLICAS} is more than AUTOPILOT_TOPIC_REPLICATION_FACTOR (${e.AUTOPILOT_TOPIC_REPLICATION_FACTOR})`,
    );
  }
  return {
    port: e.PORT,
    apiKeys: e.AUTOPILOT_API_KEYS,
    adminKey: e.AUTOPILOT_ADMIN_KEY,
    dataDir: path.resolve(e.AUTOPILOT_DATA_DIR),
    kafkaBrokers: e.KAFKA_BROKERS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL.replace(/\/$/, ''),
    redisUrl: e.REDIS_URL,
    clickhouseUrl: e.CLICKHOUSE_URL,
    groupPrefix: e.AUTOPILOT_GROUP_PREFIX,
    newGroupStart: e.AUTOPILOT_NEW_GROUP_START,
    topicPartitions: e.AUTOPILOT_TOPIC_PARTITIONS,
    topicReplication: { factor: e.AUTOPILOT_TOPIC_REPLICATION_FACTOR, minInsync: e.AUTOPILOT_TOPIC_MIN_INSYNC_REPLICAS },
    maxBodyBytes: e.AUTOPILOT_MAX_BODY_BYTES,
    maxBatch: e.AUTOPILOT_MAX_BATCH,
    tenantRate: e.AUTOPILOT_TENANT_RATE,
    gatewayWorkers: e.GATEWAY_WORKERS ?? availableParallelism(),
    selfMonitor: e.AUTOPILOT_SELF_TENANT ? { tenant: e.AUTOPILOT_SELF_TENANT, intervalMs: e.AUTOPILOT_SELF_INTERVAL_SECONDS * 1000 } : undefined,
    metricsTenantLabels: e.AUTOPILOT_METRICS_TENANT_LABELS,
    consoleLivePollMs: e.CONSOLE_LIVE_POLL_MS,
  };
}
