import { describe, expect, it } from 'vitest';
import { thrownAutopilotError } from '../test/helpers/thrown.ts';
import { parseJob, redactJob } from './jobs.ts';

const probe = {
  name: 'checkout health',
  schedule: '*/30 * * * * *',
  kind: 'http_probe',
  params: { url: 'https://checkout.example.com/health', service: 'checkout' },
};
const problems = (body: unknown, opts?: { allowLoopback: boolean }) =>
  (thrownAutopilotError(() => parseJob(body, opts)).details as { path: string; message: string }[]).map((d) => `${d.path}: ${d.message}`);

describe('parseJob', () => {
  it('fills the defaults: UTC, enabled, overlap skip, a 5m run timeout, GET with a 10s timeout, a critical alert after 3 failures', () => {
    expect(parseJob(probe)).toEqual({
      ...probe,
      timezone: 'UTC',
      enabled: true,
      overlap: 'skip',
      timeout: '5m',
      params: { ...probe.params, method: 'GET', timeout: '10s', alert_after: 3, severity: 'critical' },
    });
  });

  it('takes 5 or 6 cron fields and nicknames, and refuses the rest, saying why', () => {
    for (const schedule of ['*/5 * * * *', '0 */5 * * * *', '@hourly', '0 9 * * 1-5']) expect(parseJob({ ...probe, schedule }).schedule).toBe(schedule);
    expect(problems({ ...probe, schedule: '* * *' })).toEqual([
      'schedule: a cron expression has 5 fields (minute hour day month weekday) or 6 (seconds first), not 3',
    ]);
    expect(problems({ ...probe, schedule: '61 * * * *' })[0]).toMatch(/^schedule: not a cron expression/);
    expect(problems({ ...probe, schedule: '0 0 30 2 *' })).toEqual(['schedule: the schedule never fires']);
    expect(problems({ ...probe, timezone: 'Mars/Olympus' })).toEqual(["timezone: 'Mars/Olympus' is not an IANA time zone (such as UTC or Europe/Paris)"]);
  });

  it('refuses unknown kinds and keys, bad URLs, and a body match on a HEAD probe', () => {
    expect(problems({ ...probe, kind: 'ftp_probe' })).toEqual(['kind: must be one of http_probe, status_page, scrape, extract']);
    expect(problems({ ...probe, params: { ...probe.params, colour: 'red' } })[0]).toMatch(/^params: Unrecognized key/);
    expect(problems({ ...probe, params: { ...probe.params, url: 'ftp://x/health' } })[0]).toMatch(/^params.url: target URL must use http or https/);
    expect(problems({ ...probe, params: { ...probe.params, method: 'HEAD', body_match: 'ok' } })).toEqual([
      'params.body_match: a HEAD probe has no body to match',
    ]);
    expect(problems({ ...probe, params: { ...probe.params, body_match: '(' } })[0]).toMatch(/^params.body_match: not a regular expression/);
  });

  it('holds URLs to the loopback rule of the deployment', () => {
    const local = { ...probe, params: { ...probe.params, url: 'http://127.0.0.1:8080/health' } };
    expect(problems(local)).toEqual(['params.url: target host 127.0.0.1 is a loopback address (127.0.0.0/8)']);
    expect(parseJob(local, { allowLoopback: true }).params).toMatchObject({ url: 'http://127.0.0.1:8080/health' });
    const scrape = { name: 's', schedule: '@daily', kind: 'scrape', params: { start_urls: ['https://docs.example.com/', 'http://localhost/x'] } };
    expect(problems(scrape)).toEqual(['params.start_urls.1: target host localhost is a loopback name']);
  });

  it('an extraction schema must be a JSON Schema the server can validate against', () => {
    const extract = {
      name: 'e',
      schedule: '@hourly',
      kind: 'extract',
      params: { url: 'https://shop.example.com/p/1', schema: { type: 'object', properties: { price: { type: 'number' } } } },
    };
    expect(parseJob(extract).params).toMatchObject({ max_chars: 20_000, timeout: '15s' });
    expect(problems({ ...extract, params: { ...extract.params, schema: { type: 'bogus' } } })[0]).toMatch(/^params.schema: not a JSON Schema/);
  });

  it('hides header values on read, and refuses the hidden form sent back', () => {
    const withToken = parseJob({ ...probe, params: { ...probe.params, headers: { authorization: 'Bearer s3cret' } } });
    const shown = redactJob(withToken);
    expect(shown.params.headers).toEqual({ authorization: '***' });
    expect(JSON.stringify(shown)).not.toContain('s3cret');
    expect(problems(shown)).toEqual(['params.headers.authorization: the hidden form shown on read was sent back; send the full value again']);
  });
});
