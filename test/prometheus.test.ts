import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildGateway } from '../gateway/server.ts';
import { createLogger } from '../lib/log.ts';
import { createRegistry } from '../lib/metrics.ts';
import { startDaemon, type Daemon } from './helpers/daemon.ts';
import { eventually, listen, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * A real Prometheus (Debian's 2.42) scraping itself every second and
 * remote-writing to the gateway over HTTP with a bearer key. Its series must
 * arrive in ClickHouse with their labels, and a gateway restart in the middle
 * must lose nothing: Prometheus keeps what it could not send in its WAL and
 * retries until the gateway answers 2xx, which it only does after Kafka's ack.
 */
describe('remote-write from a real Prometheus', () => {
  let p: TestPipeline;
  let prometheus: Daemon;
  let gateway: Awaited<ReturnType<typeof listen>>;
  let closeGateway: () => Promise<void>;

  const startGateway = async (port = 0) => {
    const { app, publisher } = await buildGateway(p.config, p.services, createRegistry('test-prometheus-gw'), createLogger('test-prometheus-gw'));
    const served = await listen(app, port);
    closeGateway = async () => {
      await served.close();
      await publisher.close();
    };
    return served;
  };

  beforeAll(async () => {
    p = await startTestPipeline('prometheus', { processors: ['sink'] });
    gateway = await startGateway();
    prometheus = await startDaemon({
      binary: inject('debianTools').prometheus,
      readyPath: '/-/ready',
      config: (port) => `
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:${port}']
remote_write:
  - url: ${gateway.url}/api/v1/write
    authorization:
      credentials: ${p.keys.a}
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
`,
      args: (dir, port) => [`--config.file=${dir}/config.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=127.0.0.1:${port}`],
    });
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    await closeGateway?.();
    await p?.stop();
  });

  it('stores up and prometheus_* series with their labels, and none are lost across a gateway restart', async () => {
    const tenant = p.tenants.a;
    const upRows = () =>
      p.rows<{ n: string; first: string; last: string }>(
        `SELECT count() AS n, toUnixTimestamp64Milli(min(timestamp)) AS first, toUnixTimestamp64Milli(max(timestamp)) AS last
         FROM metric_points FINAL WHERE tenant = {tenant:String} AND metric_name = 'up'`,
        { tenant },
      );
    await eventually(upRows, (r) => Number(r[0]!.n) >= 3, 60_000);

    // Restart: the gateway goes away for three scrapes, then a new one (new producer) takes the same port.
    await closeGateway();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    gateway = await startGateway(gateway.port);
    const restartedAt = Date.now();
    await eventually(upRows, (r) => Number(r[0]!.last) > restartedAt + 2000, 60_000);

    // The restart was felt: Prometheus had to retry samples, and still every one of them arrived (below).
    const retried = (await fetch(`${prometheus.url}/api/v1/query?query=sum(prometheus_remote_storage_samples_retried_total)`).then((r) => r.json())) as {
      data: { result: { value: [number, string] }[] };
    };
    expect(Number(retried.data.result[0]!.value[1])).toBeGreaterThan(0);

    const [labels] = await p.rows<{ labels: Record<string, string> }>(
      `SELECT labels FROM metric_points WHERE tenant = {tenant:String} AND metric_name = 'up' LIMIT 1`,
      { tenant },
    );
    expect(labels!.labels).toMatchObject({ job: 'prometheus', service: 'prometheus', instance: `127.0.0.1:${prometheus.port}` });
    const [series] = await p.rows<{ n: string }>(
      `SELECT uniqExact(metric_name) AS n FROM metric_points WHERE tenant = {tenant:String} AND startsWith(metric_name, 'prometheus_')`,
      { tenant },
    );
    expect(Number(series!.n)).toBeGreaterThan(50);

    // Every scrape of `up` between the first and the last is there: no gap wider than the interval, restart included.
    const gaps = await p.rows<{ gap: string }>(
      `SELECT max(d) AS gap FROM (
         SELECT ms - lagInFrame(ms, 1, ms) OVER (ORDER BY ms ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS d
         FROM (SELECT DISTINCT toUnixTimestamp64Milli(timestamp) AS ms FROM metric_points FINAL WHERE tenant = {tenant:String} AND metric_name = 'up')
       )`,
      { tenant },
    );
    expect(Number(gaps[0]!.gap)).toBeLessThanOrEqual(1500);
  }, 150_000);
});
