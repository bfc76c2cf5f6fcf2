import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../lib/errors.ts';
import { severityRank } from '../lib/severity.ts';
import { notificationTargetSchema, parseTarget, redactTarget, wantsSeverity } from './notification-targets.ts';

function invalid(input: unknown, opts?: { allowLoopback: boolean }): AutopilotError {
  try {
    parseTarget(input, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(AutopilotError);
    expect((err as AutopilotError).code).toBe('invalid_target');
    expect((err as AutopilotError).status).toBe(400);
    return err as AutopilotError;
  }
  throw new Error('expected the target to be refused');
}

describe('notification targets', () => {
  it('parses a Slack target and defaults enabled to true', () => {
    expect(parseTarget({ name: 'ops channel', kind: 'slack', url: 'https://hooks.slack.com/services/T0/B0/xyz' })).toEqual({
      name: 'ops channel',
      kind: 'slack',
      url: 'https://hooks.slack.com/services/T0/B0/xyz',
      enabled: true,
    });
  });

  it('parses a webhook target with headers and a minimum severity', () => {
    const t = parseTarget({
      id: 'pager-1',
      name: 'pager',
      kind: 'webhook',
      url: 'https://pager.example.com/hook',
      enabled: false,
      min_severity: 'high',
      headers: { Authorization: 'Bearer abc', 'X-Team': 'sre' },
    });
    expect(t).toMatchObject({ kind: 'webhook', enabled: false, min_severity: 'high', headers: { Authorization: 'Bearer abc' } });
  });

  it('refuses unknown keys, headers on Slack, bad kinds and severities', () => {
    expect(invalid({ name: 'x', kind: 'slack', url: 'https://h.example.com/', channel: '#ops' }).message).toMatch(/channel/);
    expect(invalid({ name: 'x', kind: 'slack', url: 'https://h.example.com/', headers: { A: 'b' } }).message).toMatch(/headers/);
    expect(invalid({ name: 'x', kind: 'email', url: 'https://h.example.com/' }).message).toMatch(/kind/);
    expect(invalid({ name: 'x', kind: 'webhook', url: 'https://h.example.com/', min_severity: 'urgent' }).message).toMatch(/min_severity/);
    expect(invalid({ name: '', kind: 'webhook', url: 'https://h.example.com/' }).details).toEqual([expect.objectContaining({ path: 'name' })]);
  });

  it('refuses headers that would break or smuggle into the request', () => {
    const base = { name: 'x', kind: 'webhook', url: 'https://h.example.com/' };
    expect(invalid({ ...base, headers: { 'Content-Type': 'text/plain' } }).message).toMatch(/set by Autopilot/);
    expect(invalid({ ...base, headers: { 'X-A': 'ok\r\nX-Injected: 1' } }).message).toMatch(/CR, LF/);
    expect(invalid({ ...base, headers: { 'bad name': 'v' } }).message).toMatch(/header name/);
  });

  it('refuses URLs the guard refuses, at configuration time', () => {
    expect(invalid({ name: 'x', kind: 'webhook', url: 'http://169.254.169.254/latest' }).message).toMatch(/cloud metadata/);
    expect(invalid({ name: 'x', kind: 'webhook', url: 'ftp://h.example.com/' }).message).toMatch(/http or https/);
    expect(invalid({ name: 'x', kind: 'webhook', url: 'https://u:p@h.example.com/' }).message).toMatch(/credentials/);
    expect(invalid({ name: 'x', kind: 'slack', url: 'http://localhost:9000/' }).message).toMatch(/loopback/);
    expect(parseTarget({ name: 'x', kind: 'slack', url: 'http://localhost:9000/' }, { allowLoopback: true }).url).toBe('http://localhost:9000/');
  });

  it('filters by severity, never dropping a severity it cannot rank', () => {
    expect(wantsSeverity({}, 'low')).toBe(true);
    expect(wantsSeverity({ min_severity: 'high' }, 'medium')).toBe(false);
    expect(wantsSeverity({ min_severity: 'high' }, 'high')).toBe(true);
    expect(wantsSeverity({ min_severity: 'high' }, 'CRITICAL')).toBe(true);
    expect(wantsSeverity({ min_severity: 'medium' }, 'warning')).toBe(true);
    expect(wantsSeverity({ min_severity: 'high' }, 'warning')).toBe(false);
    expect(wantsSeverity({ min_severity: 'critical' }, 'sev0-whatever')).toBe(true);
    expect(severityRank('info')).toBeLessThan(severityRank('warning'));
  });

  it('redacts the secret parts for display', () => {
    const slack = notificationTargetSchema.parse({ name: 's', kind: 'slack', url: 'https://hooks.slack.com/services/T0/B0/secret' });
    expect(redactTarget(slack).url).toBe('https://hooks.slack.com/…');
    const hook = notificationTargetSchema.parse({ name: 'w', kind: 'webhook', url: 'https://h.example.com', headers: { Authorization: 'Bearer abc' } });
    expect(redactTarget(hook)).toMatchObject({ url: 'https://h.example.com', headers: { Authorization: '***' } });
  });
});
