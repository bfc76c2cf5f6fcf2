import { describe, expect, it } from 'vitest';
import { isoTime, isoTimeSeconds, isoTimeShort } from './time.ts';

// The three forms differ only in the milliseconds; each output depends on its form
// (webhook payloads on isoTime, prompts and the rules' text on isoTimeShort, Slack on isoTimeSeconds).
describe('time', () => {
  const whole = Date.UTC(2024, 4, 1, 12, 0, 0);
  const withMs = whole + 250;

  it('writes every digit for machines', () => {
    expect(isoTime(whole)).toBe('2024-05-01T12:00:00.000Z');
    expect(isoTime(withMs)).toBe('2024-05-01T12:00:00.250Z');
  });

  it('drops only zero milliseconds for people and models', () => {
    expect(isoTimeShort(whole)).toBe('2024-05-01T12:00:00Z');
    expect(isoTimeShort(withMs)).toBe('2024-05-01T12:00:00.250Z');
  });

  it('cuts to the second for Slack', () => {
    expect(isoTimeSeconds(whole)).toBe('2024-05-01T12:00:00Z');
    expect(isoTimeSeconds(withMs)).toBe('2024-05-01T12:00:00Z');
  });
});
