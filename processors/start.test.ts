import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NEEDS_CLICKHOUSE, PROCESSOR_NAMES, PROCESSORS } from './start.ts';

/** The variables each processor's config reads: a misspelt one must stop the start, not be ignored. */
const PREFIXES: Record<(typeof PROCESSOR_NAMES)[number], string[]> = {
  sink: ['SINK_'],
  agents: ['AGENTS_'],
  rollup: ['ROLLUP_'],
  detect: ['DETECT_'],
  'error-rate': ['DETECT_', 'ROLLUP_'],
  alert: ['ALERT_'],
  correlate: ['CORRELATE_'],
  analyze: ['ANALYZE_'],
  remediate: ['REMEDIATE_'],
  execute: ['EXECUTE_'],
  notify: ['NOTIFY_'],
};

describe('processors: one shape', () => {
  it('every processor folder is listed once, downstream first, and has a config and a processor file', () => {
    const folders = readdirSync(new URL('./', import.meta.url), { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== 'runtime')
      .map((e) => e.name);
    expect([...folders].sort()).toEqual([...PROCESSOR_NAMES].sort());
    for (const name of folders) {
      const files = readdirSync(new URL(`./${name}/`, import.meta.url));
      expect(files, name).toEqual(expect.arrayContaining(['config.ts', 'processor.ts']));
    }
    expect(PROCESSOR_NAMES[0]).toBe('sink');
    expect(NEEDS_CLICKHOUSE).toEqual(['sink', 'agents', 'rollup', 'alert', 'analyze', 'remediate', 'execute', 'notify']);
  });

  it.each(PROCESSORS.map((p) => [p.name, p] as const))('%s: its config has defaults and refuses an unknown variable', (name, factory) => {
    expect(() => factory.config({})).not.toThrow();
    for (const prefix of PREFIXES[name]) expect(() => factory.config({ [`${prefix}NO_SUCH_SETTING`]: '1' }), prefix).toThrow(/NO_SUCH_SETTING|unrecognized/i);
  });
});
