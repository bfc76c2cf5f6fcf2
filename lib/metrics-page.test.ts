import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { refusalTestApp } from '../test/helpers/gateway-app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { withoutTenantLabels } from './metrics-page.ts';

/**
 * GET /metrics needs no key (Prometheus scrapes it like any exporter), so by
 * default it names no tenant. Before this change it listed
 * autopilot_gateway_records_accepted_total per tenant name, with counts.
 */
describe('GET /metrics and tenants', () => {
  const page = async (tenantLabels: boolean) => {
    const { app, telemetry } = refusalTestApp({ metricsTenantLabels: tenantLabels });
    telemetry.recordsAccepted.inc({ protocol: 'json', kind: 'metrics', tenant: 'acme-corp' }, 5);
    telemetry.recordsAccepted.inc({ protocol: 'json', kind: 'metrics', tenant: 'globex' }, 7);
    telemetry.recordsAccepted.inc({ protocol: 'loki', kind: 'logs', tenant: 'globex' }, 2);
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    return res.text();
  };

  it('by default shows no tenant name, and the counts summed over tenants', async () => {
    expect(loadConfig({}).metricsTenantLabels).toBe(false);
    const text = await page(loadConfig({}).metricsTenantLabels);
    expect(text).not.toMatch(/acme-corp|globex|tenant=/);
    expect(text).toContain('autopilot_gateway_records_accepted_total{protocol="json",kind="metrics"} 12');
    expect(text).toContain('autopilot_gateway_records_accepted_total{protocol="loki",kind="logs"} 2');
  });

  it('with AUTOPILOT_METRICS_TENANT_LABELS=true names them, as before', async () => {
    const text = await page(loadConfig({ AUTOPILOT_METRICS_TENANT_LABELS: 'true' }).metricsTenantLabels);
    expect(text).toContain('autopilot_gateway_records_accepted_total{protocol="json",kind="metrics",tenant="acme-corp"} 5');
    expect(text).toContain('autopilot_gateway_records_accepted_total{protocol="json",kind="metrics",tenant="globex"} 7');
    expect(() => loadConfig({ AUTOPILOT_METRICS_TENANT_LABELS: 'yes' })).toThrow(ConfigError);
  });
});

describe('withoutTenantLabels', () => {
  it('sums series that differ only by tenant, wherever the label sits, and leaves the rest as it was', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ component: 'gw' });
    const c = new Counter({ name: 'c_total', help: 'h', labelNames: ['tenant', 'note'], registers: [registry] });
    c.inc({ tenant: 'a', note: 'say "hi", tenant="x"' }, 1);
    c.inc({ tenant: 'b', note: 'say "hi", tenant="x"' }, 2);
    c.inc({ tenant: 'a', note: 'other' }, 4);
    const h = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['tenant'], buckets: [1], registers: [registry] });
    h.observe({ tenant: 'a' }, 0.5);
    h.observe({ tenant: 'b' }, 2);
    const plain = new Counter({ name: 'plain_total', help: 'h', registers: [registry] });
    plain.inc(3);

    const out = withoutTenantLabels(await registry.metrics());
    expect(out).not.toMatch(/tenant="[ab]"/);
    expect(out).toContain('c_total{note="say \\"hi\\", tenant=\\"x\\"",component="gw"} 3');
    expect(out).toContain('c_total{note="other",component="gw"} 4');
    expect(out).toContain('h_seconds_bucket{le="1",component="gw"} 1');
    expect(out).toContain('h_seconds_bucket{le="+Inf",component="gw"} 2');
    expect(out).toContain('h_seconds_count{component="gw"} 2');
    expect(out).toContain('plain_total{component="gw"} 3');
    expect(out).toContain('# TYPE c_total counter');
    // A series whose only label was the tenant loses its braces.
    expect(withoutTenantLabels('only_total{tenant="a"} 1\nonly_total{tenant="b"} 1\n')).toBe('only_total 2\n');
  });
});
