import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('configuration from the environment', () => {
  it('has defaults that match the local stack', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.kafkaBrokers).toEqual(['localhost:9092']);
    expect(c.schemaRegistryUrl).toBe('http://localhost:8081/apis/ccompat/v7');
    expect(c.clickhouseUrl).toBeUndefined();
    expect(c.apiKeys.size).toBe(0);
  });

  it('maps API keys to tenants', () => {
    const c = loadConfig({ AUTOPILOT_API_KEYS: 'acme:k1, globex:k2' });
    expect([...c.apiKeys]).toEqual([
      ['k1', 'acme'],
      ['k2', 'globex'],
    ]);
  });

  it('names the variable that is wrong, and never echoes a key', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    const err = (() => {
      try {
        loadConfig({ AUTOPILOT_API_KEYS: 'no-colon-secret' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(/AUTOPILOT_API_KEYS/);
    expect(err?.message).not.toContain('no-colon-secret');
  });
});
