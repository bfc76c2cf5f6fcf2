import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../../lib/errors.ts';
import { parseLabelSet } from './label-set.ts';

function errorOf(text: string): AutopilotError {
  try {
    parseLabelSet(text);
  } catch (err) {
    expect(err).toBeInstanceOf(AutopilotError);
    return err as AutopilotError;
  }
  throw new Error(`expected ${text} to be refused`);
}

describe('label set text', () => {
  it('reads pairs with any spacing and a trailing comma', () => {
    expect(parseLabelSet('{job="api", level="error"}')).toEqual({ job: 'api', level: 'error' });
    expect(parseLabelSet(' { job = "api" ,level="error", } ')).toEqual({ job: 'api', level: 'error' });
    expect(parseLabelSet('{}')).toEqual({});
  });

  it('reads Go string escapes, UTF-8 byte escapes and raw backquoted values', () => {
    const text = `${String.raw`{q="say \"hi\"\\ok\n\ttab", euro="\xe2\x82\xac", e="\u00e9", smile="\U0001F600", oct="\101\102", raw=`}\`C:\\dir\\"x"\`}`;
    expect(parseLabelSet(text)).toEqual({ q: 'say "hi"\\ok\n\ttab', euro: '€', e: 'é', smile: '😀', oct: 'AB', raw: 'C:\\dir\\"x"' });
    expect(parseLabelSet('{city="Zürich"}')).toEqual({ city: 'Zürich' });
  });

  it('keeps a label named __proto__ as a label', () => {
    const labels = parseLabelSet('{__proto__="x", a="b"}');
    expect(Object.keys(labels)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
  });

  it('refuses what is not a label set, saying what and where, with a 400', () => {
    const cases: [string, RegExp][] = [
      ['job="api"', /expected \{ at offset 0/],
      ['{job=api}', /expected a quoted value at offset 5/],
      ['{job!="api"}', /expected = at offset 4/],
      ['{job=~"a.*"}', /expected a quoted value at offset 5/],
      ['{9job="x"}', /expected a label name/],
      ['{job="a", job="b"}', /label job appears twice/],
      ['{job="api"', /unexpected end/],
      ['{job="api}', /unexpected end/],
      ['{job="a" level="b"}', /expected , or \}/],
      ['{job="api"} x', /unexpected text after \}/],
      ['{job="\\q"}', /unknown escape \\q/],
      ['{job="\\x4"}', /expected 2 hex digits/],
      ['{job="\\ud800"}', /not a valid Unicode code point/],
      ['{job="a\nb"}', /newline in a quoted value/],
      ['{job=`open}', /unterminated `string`/],
    ];
    for (const [text, message] of cases) {
      const err = errorOf(text);
      expect(err.status).toBe(400);
      expect(err.message).toMatch(message);
      expect(err.message).toContain('malformed label set');
    }
  });
});
