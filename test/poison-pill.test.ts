import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS, type AlertRecord } from '../schemas/topics.ts';
import { readDeadLetters } from './helpers/dead-letters.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * Issue 9, finding 1: one tenant's Alertmanager webhook with alerts that
 * started on 120 different days made ClickHouse refuse the `alerts` insert
 * (too many partitions for one insert); the sink retried it forever, and as
 * the consumer waited for every batch of a fetch, no other table got a row:
 * another tenant's metrics got 202 and were never stored. On that code the
 * first test times out waiting for tenant b's metrics; so does the second,
 * where alerts dated 1970 and 9999 sit on the topic (written before the
 * gateway checked times) and must be dead-lettered, not retried or lost.
 */
describe('no tenant stalls another', () => {
  let p: TestPipeline;
  const DAY = 24 * 3600 * 1000;
  const now = Date.now();
  const count = async (table: string, tenant: string, where = '1') =>
    Number((await p.rows<{ n: string }>(`SELECT count() AS n FROM ${table} FINAL WHERE tenant = {t:String} AND ${where}`, { t: tenant }))[0]!.n);
  const metricsOfB = (n: number, at: number) =>
    Array.from({ length: n }, (_, i) => ({ timestamp: at + i, metric_name: 'orders_total', value: i, labels: { service: 'shop' } }));

  beforeAll(async () => {
    p = await startTestPipeline('poison', { processors: ['sink'] });
  });
  afterAll(async () => p?.stop());

  it('a webhook whose alerts started on 120 different days is stored, and another tenant is not held up', async () => {
    const firstDay = now - 121 * DAY;
    const webhook = {
      version: '4',
      groupKey: 'g',
      status: 'firing',
      receiver: 'r',
      alerts: Array.from({ length: 120 }, (_, i) => ({
        status: 'firing',
        labels: { alertname: 'X', service: 's' },
        startsAt: new Date(firstDay + i * DAY).toISOString(),
        fingerprint: `f${i}`,
      })),
    };
    expect((await p.post('/v1/alertmanager', webhook)).status).toBe(202);
    expect((await p.post('/v1/metrics', metricsOfB(50, now - 1000), p.keys.b)).status).toBe(202);

    await eventually(
      () => count('metric_points', p.tenants.b),
      (n) => n === 50,
      15_000,
    );
    await eventually(
      () => count('alerts', p.tenants.a),
      (n) => n === 120,
      15_000,
    );
  });

  it('alerts dated 1970 and 9999 already on the topic are dead-lettered with the reason; the rest flows', async () => {
    const alert = (id: string, starts_at: number): AlertRecord => ({
      alert_id: `${id}:firing:${starts_at}`,
      tenant: p.tenants.a,
      service: 'poisoned',
      source: 'alertmanager',
      alert_name: 'Old',
      status: 'firing',
      severity: 'warning',
      fingerprint: id,
      labels: { alertname: 'Old' },
      annotations: {},
      starts_at,
      ends_at: null,
      received_at: now,
      generator_url: null,
      rule_id: null,
      value: null,
    });
    // Written straight to Kafka, as an older gateway (or any other producer) could have.
    await p.publisher.publish('alerts', [alert('epoch', 0), alert('far', Date.UTC(9999, 11, 31)), alert('fine', now - DAY)]);
    expect((await p.post('/v1/metrics', metricsOfB(20, now), p.keys.b)).status).toBe(202);

    await eventually(
      () => count('metric_points', p.tenants.b),
      (n) => n === 70,
      15_000,
    );
    await eventually(
      () => count('alerts', p.tenants.a, `service = 'poisoned'`),
      (n) => n === 1,
      15_000,
    );
    const letters = await readDeadLetters(p.services.kafka, (d) => d.sourceTopic === TOPICS.alerts.topic && d.reason.includes('starts_at'), 2);
    expect(letters.map((d) => d.reason).sort()).toEqual([
      expect.stringMatching(/^event time: starts_at 1970-01-01T00:00:00.000Z is older than the table's 395-day retention/),
      expect.stringMatching(/^event time: starts_at 9999-12-31T00:00:00.000Z is more than a day in the future/),
    ]);
    expect(letters.every((d) => d.processor === 'sink')).toBe(true);
  });
});
