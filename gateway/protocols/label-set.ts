import { badRequest } from '../../lib/errors.ts';

/**
 * A label set written as text, the way Loki's protobuf push carries stream
 * labels and Prometheus prints series: `{job="api", level="error"}`. Values
 * are Go string literals, as in LogQL: double-quoted with backslash escapes,
 * or backquoted and raw. Only `=` pairs: this is a label set, not a selector.
 * Anything else is a 400 that says where.
 */
export function parseLabelSet(text: string): Record<string, string> {
  return new LabelSetParser(text).parse();
}

const NAME_START = /[a-zA-Z_]/;
const NAME_PART = /[a-zA-Z0-9_]/;
const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };

class LabelSetParser {
  private pos = 0;
  private readonly labels = new Map<string, string>();

  constructor(private readonly text: string) {}

  parse(): Record<string, string> {
    this.space();
    this.expect('{');
    this.space();
    while (this.peek() !== '}') {
      const name = this.name();
      this.space();
      this.expect('=');
      this.space();
      const value = this.value();
      if (this.labels.has(name)) this.fail(`label ${name} appears twice`);
      this.labels.set(name, value);
      this.space();
      if (this.peek() === ',') {
        this.pos++;
        this.space();
      } else if (this.peek() !== '}') this.fail('expected , or }');
    }
    this.pos++;
    this.space();
    if (this.pos < this.text.length) this.fail('unexpected text after }');
    // fromEntries defines own properties: a label named __proto__ stays a label.
    return Object.fromEntries(this.labels);
  }

  private peek(): string {
    if (this.pos >= this.text.length) this.fail('unexpected end');
    return this.text[this.pos]!;
  }

  private expect(c: string): void {
    if (this.peek() !== c) this.fail(`expected ${c}`);
    this.pos++;
  }

  private space(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private name(): string {
    const start = this.pos;
    if (!NAME_START.test(this.peek())) this.fail('expected a label name (letters, digits and _, not starting with a digit)');
    while (this.pos < this.text.length && NAME_PART.test(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private value(): string {
    const quote = this.peek();
    if (quote === '`') {
      const end = this.text.indexOf('`', this.pos + 1);
      if (end < 0) this.fail('unterminated `string`');
      const value = this.text.slice(this.pos + 1, end);
      this.pos = end + 1;
      return value;
    }
    if (quote !== '"') this.fail('expected a quoted value');
    this.pos++;
    let out = '';
    let bytes: number[] = []; // \x and octal escapes are bytes: a run of them is UTF-8
    const flush = () => {
      if (bytes.length > 0) out += Buffer.from(bytes).toString('utf8');
      bytes = [];
    };
    for (;;) {
      const c = this.peek();
      this.pos++;
      if (c === '"') break;
      if (c === '\n') this.fail('newline in a quoted value');
      if (c !== '\\') {
        flush();
        out += c;
        continue;
      }
      const e = this.peek();
      this.pos++;
      if (e === 'x') bytes.push(this.hex(2));
      else if (e >= '0' && e <= '7') {
        this.pos--;
        const octal = this.text.slice(this.pos, this.pos + 3);
        if (!/^[0-7]{3}$/.test(octal) || parseInt(octal, 8) > 255) this.fail('bad octal escape');
        bytes.push(parseInt(octal, 8));
        this.pos += 3;
      } else {
        flush();
        if (e === 'u' || e === 'U') {
          const cp = this.hex(e === 'u' ? 4 : 8);
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail('escape is not a valid Unicode code point');
          out += String.fromCodePoint(cp);
        } else if (SIMPLE_ESCAPES[e] !== undefined) out += SIMPLE_ESCAPES[e];
        else this.fail(`unknown escape \\${e}`);
      }
    }
    flush();
    return out;
  }

  private hex(digits: number): number {
    const s = this.text.slice(this.pos, this.pos + digits);
    if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(s)) this.fail(`expected ${digits} hex digits`);
    this.pos += digits;
    return parseInt(s, 16);
  }

  private fail(why: string): never {
    const shown = this.text.length > 200 ? `${this.text.slice(0, 200)}…` : this.text;
    throw badRequest(`malformed label set ${JSON.stringify(shown)}: ${why} at offset ${Math.min(this.pos, this.text.length)}`);
  }
}
