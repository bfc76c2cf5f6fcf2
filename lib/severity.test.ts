import { describe, expect, it } from 'vitest';
import { alertSignalSeverity, moreSevere, ruleAlertNoticeSeverity, scaleRank, severityRank } from './severity.ts';

// The expected values are those of the tables this module replaced (correlate's and the
// alert rules' RANK, the analyst's SEVERITY_RANK, correlate's alertSeverity, notify's rule
// alert mapping): a mapping changed here changes what opens incidents or who is notified.
describe('severity', () => {
  it('ranks Autopilot’s own severities, a stray word as low', () => {
    expect(['low', 'medium', 'high', 'critical'].map(scaleRank)).toEqual([0, 1, 2, 3]);
    expect(scaleRank('sev0')).toBe(0);
    expect(scaleRank('HIGH')).toBe(0);
    expect(moreSevere('medium', 'critical')).toBe('critical');
    expect(moreSevere('high', 'medium')).toBe('high');
    expect(moreSevere('low', 'whatever')).toBe('low');
  });

  it('ranks any spelling for notification filters, unreadable words above critical', () => {
    expect(['info', 'none', 'LOW'].map(severityRank)).toEqual([0, 0, 0]);
    expect(['warning', 'warn', 'Medium'].map(severityRank)).toEqual([1, 1, 1]);
    expect(['error', 'page', 'high'].map(severityRank)).toEqual([2, 2, 2]);
    expect(severityRank('CRITICAL')).toBe(3);
    expect(['emergency', 'sev0', 'constructor'].map(severityRank)).toEqual([4, 4, 4]);
  });

  it('weighs a firing alert as a correlation signal', () => {
    expect(['critical', 'Page', 'emergency'].map(alertSignalSeverity)).toEqual(['critical', 'critical', 'critical']);
    expect(['info', 'none', 'low'].map(alertSignalSeverity)).toEqual(['medium', 'medium', 'medium']);
    expect(['warning', 'error', 'sev0'].map(alertSignalSeverity)).toEqual(['high', 'high', 'high']);
  });

  it('sends a rule alert as critical or high', () => {
    expect(ruleAlertNoticeSeverity('critical')).toBe('critical');
    expect(ruleAlertNoticeSeverity('warning')).toBe('high');
  });
});
