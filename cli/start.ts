import { loadConfig } from '../lib/config.ts';
import { stackConfigFromEnv, stackUp, stackUrls } from '../compose/local/stack.ts';
import { devKey } from './dev-keys.ts';
import { runComponents } from './run.ts';

/**
 * `npm start`: the local stack, then every component in this one process on
 * the embedded ClickHouse. Addresses left unset point at the local stack; an
 * unset API key becomes a dev key kept in the data folder.
 */
export async function startAll(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const stack = stackConfigFromEnv(env);
  const say = (msg: string) => process.stderr.write(`${msg}\n`);
  say('autopilot: starting the local stack (Kafka, schema registry, Redis)…');
  await stackUp(stack, (msg) => say(`  ${msg}`));

  const urls = stackUrls(stack);
  const dataDir = loadConfig(env).dataDir;
  const apiKey = env.AUTOPILOT_API_KEYS ? undefined : devKey(dataDir, 'dev-api-key');
  const config = loadConfig({
    ...env,
    KAFKA_BROKERS: env.KAFKA_BROKERS ?? urls.kafkaBrokers,
    SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL ?? urls.schemaRegistryUrl,
    REDIS_URL: env.REDIS_URL ?? urls.redisUrl,
    AUTOPILOT_API_KEYS: env.AUTOPILOT_API_KEYS ?? `dev:${apiKey}`,
    AUTOPILOT_ADMIN_KEY: env.AUTOPILOT_ADMIN_KEY ?? devKey(dataDir, 'admin-key'),
  });

  await runComponents(['gateway', 'processors', 'scheduler'], config, (url) => {
    const key = apiKey ?? '<a key from AUTOPILOT_API_KEYS>';
    say(`
Autopilot is running at ${url}   (Ctrl-C stops it, flushing what it holds)
  Console: open ${url}/ in a browser and sign in with the API key
  API key (tenant "dev"): ${key}
  Try:
    curl -s -X POST ${url}/v1/metrics -H 'authorization: Bearer ${key}' -H 'content-type: application/json' \\
      -d '{"timestamp": '$(date +%s000)', "metric_name": "http_request_duration_ms", "value": 123, "labels": {"service": "checkout", "environment": "prod"}}'
    npx autopilot sql "SELECT service, metric_name, count() FROM metric_points FINAL GROUP BY ALL"
    npx autopilot ask "what is wrong with checkout?"
  Health: ${url}/health/detailed   Metrics: ${url}/metrics   API docs: ${url}/docs
`);
  });
}
