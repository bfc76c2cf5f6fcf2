import { describe, expect, it } from 'vitest';
import { levelOf, toOtlpLogEntries } from './logs.ts';
import type { LogRecordMsg, LogsRequestMsg } from './messages.ts';

const NOW = Date.UTC(2026, 11, 1, 12);
const record = (extra: Partial<LogRecordMsg>): LogRecordMsg =>
  ({
    time_unix_nano: NOW * 1e6,
    observed_time_unix_nano: 0,
    severity_number: 0,
    severity_text: '',
    body: null,
    attributes: [],
    flags: 0,
    trace_id: new Uint8Array(),
    span_id: new Uint8Array(),
    event_name: '',
    ...extra,
  }) as LogRecordMsg;
const request = (...records: LogRecordMsg[]): LogsRequestMsg => ({
  resource_logs: [
    {
      resource: { attributes: [{ key: 'service.name', value: { value: 'string_value', string_value: 'pay' } as never }], dropped_attributes_count: 0 },
      scope_logs: [{ scope: null, log_records: records }],
    },
  ],
});

describe('toOtlpLogEntries', () => {
  it('keeps trace and span ids as hex labels, and falls back to the observed time', () => {
    const r = toOtlpLogEntries(
      't',
      request(
        record({
          trace_id: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'),
          span_id: Buffer.from('b7ad6b7169203331', 'hex'),
          body: { value: 'string_value', string_value: 'hi' } as never,
        }),
        record({ time_unix_nano: 0, observed_time_unix_nano: (NOW - 5) * 1e6 }),
      ),
      NOW,
    );
    expect(r.entries[0]).toMatchObject({
      service: 'pay',
      message: 'hi',
      labels: { trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' },
    });
    expect(r.entries[1]!.timestamp).toBe(NOW - 5);
  });

  it('reads the level from severity_number ranges, else the text', () => {
    expect([1, 5, 9, 13, 17, 21, 24].map((n) => levelOf({ severity_number: n, severity_text: '' }))).toEqual([
      'trace',
      'debug',
      'info',
      'warn',
      'error',
      'fatal',
      'fatal',
    ]);
    expect(levelOf({ severity_number: 0, severity_text: 'WARNING' })).toBe('warn');
    expect(levelOf({ severity_number: 0, severity_text: '' })).toBe('info');
  });
});
