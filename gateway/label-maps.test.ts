import snappy from 'snappy';
import { describe, expect, it } from 'vitest';
import { refusalTestApp, TEST_KEYS } from '../test/helpers/gateway-app.ts';
import { parseLabelSet } from './protocols/label-set.ts';
import { toLogEntries } from './protocols/loki.ts';
import { protoType } from './protocols/protobuf.ts';
import { decodeRemoteWrite } from './protocols/remote-write.ts';
import { deploymentInput, logInput, metricInput, toRecord } from './records.ts';
import { sortKeys } from '../lib/labels.ts';

/**
 * Label maps built from what senders write. A label is kept, or the request
 * is refused saying which; never dropped while the answer is 2xx. Before
 * this change a JSON label `__proto__` vanished (zod skips the key, and an
 * assignment would set the prototype instead) and the point was accepted:
 * the three refusals below were 202/201 then.
 */
describe('a label named __proto__ in a JSON body is refused, saying where', () => {
  const { app } = refusalTestApp();
  const post = (path: string, body: string) =>
    app.request(path, { method: 'POST', body, headers: { authorization: `Bearer ${TEST_KEYS.a}`, 'content-type': 'application/json' } });
  const now = Date.now();

  it.each([
    ['a metric label', '/v1/metrics', `{"timestamp": ${now}, "metric_name": "up", "value": 1, "labels": {"__proto__": "x", "service": "api"}}`, 'labels'],
    [
      'a log label, spelt with escapes',
      '/v1/logs',
      `[{"timestamp": ${now}, "level": "info", "message": "m", "service": "api", "labels": {"\\u005f_proto__": "x"}}]`,
      '0.labels',
    ],
    [
      'an Alertmanager alert label',
      '/v1/alertmanager',
      JSON.stringify({
        version: '4',
        groupKey: 'g',
        status: 'firing',
        receiver: 'r',
        alerts: [{ status: 'firing', startsAt: new Date(now).toISOString(), fingerprint: 'f', labels: { alertname: 'A' } }],
      }).replace('"alertname"', '"__proto__": "p", "alertname"'),
      'alerts.0.labels',
    ],
    [
      'an alert rule label',
      '/v1/alert-rules',
      '{"name": "r", "kind": "threshold", "service": "api", "metric": "m", "field": "p99", "op": "gt", "value": 1, "for": "1m", "labels": {"__proto__": "x"}}',
      'labels',
    ],
  ])('%s', async (_what, path, body, where) => {
    const res = await post(path, body);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { error: { code: string; message: string; details: unknown } }).error;
    expect(error.message).toMatch(/__proto__/);
    expect(error.details).toEqual({ path: where });
  });
});

describe('labels named like Object.prototype members are kept', () => {
  const now = Date.now();
  const tricky = { constructor: 'c', toString: 't', hasOwnProperty: 'h', service: 'api' };

  it('in JSON metrics, logs and deployments, through validation and the record', () => {
    const point = toRecord.metrics('acme', metricInput.parse({ timestamp: now, metric_name: 'up', value: 1, labels: tricky }));
    expect(point.labels).toEqual({ constructor: 'c', hasOwnProperty: 'h', service: 'api', toString: 't' });
    expect(Object.keys(point.labels)).toEqual(['constructor', 'hasOwnProperty', 'service', 'toString']);
    expect(logInput.parse({ timestamp: now, level: 'info', message: 'm', service: 'api', labels: tricky }).labels.constructor).toBe('c');
    expect(deploymentInput.parse({ timestamp: now, service: 'api', version: '1', status: 'started', metadata: tricky }).metadata.toString).toBe('t');
  });

  it('sortKeys keeps even an own __proto__ key as a key', () => {
    const sorted = sortKeys(JSON.parse('{"zone": "a", "__proto__": "p", "constructor": "c"}') as Record<string, string>);
    expect(Object.keys(sorted)).toEqual(['__proto__', 'constructor', 'zone']);
    expect(Object.getOwnPropertyDescriptor(sorted, '__proto__')?.value).toBe('p');
    expect(Object.getPrototypeOf(sorted)).toBe(Object.prototype);
  });

  it('in a Loki label set; a __proto__ there is reserved like every __ name, as in Loki', () => {
    const labels = parseLabelSet('{__proto__="p", constructor="c", service_name="api", __meta_x="m"}');
    expect(Object.keys(labels)).toEqual(['__proto__', 'constructor', 'service_name', '__meta_x']);
    const [entry] = toLogEntries('acme', [{ labels, entries: [{ timestamp_ns: `${now}000000`, line: 'l', metadata: {} }] }], now).entries;
    expect(entry!.labels).toEqual({ constructor: 'c' });
  });

  it('in Prometheus remote-write; a __proto__ there is reserved like every __ name, as in Prometheus', () => {
    const WriteRequest = protoType('prometheus-remote-write-1.proto', 'prometheus.WriteRequest');
    const labels = [
      ['__name__', 'up'],
      ['__proto__', 'p'],
      ['__meta_x', 'm'],
      ['constructor', 'c'],
      ['job', 'api'],
    ].map(([name, value]) => ({ name, value }));
    const body = snappy.compressSync(
      WriteRequest.encode(WriteRequest.fromObject({ timeseries: [{ labels, samples: [{ value: 1, timestamp: now }] }] })).finish(),
    );
    const batch = decodeRemoteWrite(body, { contentType: 'application/x-protobuf', contentEncoding: 'snappy' }, { maxDecodedBytes: 1 << 20 });
    expect(batch.samples[0]!.labels).toEqual({ constructor: 'c', job: 'api' });
  });
});
