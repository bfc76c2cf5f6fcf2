import { describe, expect, it } from 'vitest';
import { grounded, measureQuality, qualityOf, requiredFilled } from './quality.ts';

const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    price: { type: ['number', 'null'] },
    tags: { type: 'array', items: { type: 'string' } },
    seller: { $ref: '#/$defs/seller' },
  },
  required: ['name', 'price', 'tags', 'seller'],
  $defs: { seller: { type: 'object', properties: { city: { type: ['string', 'null'] } }, required: ['city'] } },
};

describe('quality of an extraction', () => {
  it('counts required fields that hold something, at every depth, through $refs', () => {
    expect(requiredFilled({ name: 'Widget', price: 3, tags: ['a'], seller: { city: 'Oslo' } }, SCHEMA)).toBe(1);
    // name, tags and seller filled; price null; seller.city "" (5 required in all, 3 filled).
    expect(requiredFilled({ name: 'Widget', price: null, tags: ['a'], seller: { city: ' ' } }, SCHEMA)).toBeCloseTo(3 / 5);
    expect(requiredFilled({ name: '', price: null, tags: [], seller: {} }, SCHEMA)).toBe(0);
  });

  it('judges a schema that requires nothing by its top-level properties', () => {
    const loose = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } };
    expect(requiredFilled({ a: 'x', b: null }, loose)).toBe(0.5);
  });

  it('finds strings with case and whitespace normalised, and numbers as numbers', () => {
    const text = 'The  ACME\nWidget costs 1,234.50 EUR in Oslo (2020-2024).';
    expect(grounded({ name: 'acme widget', price: 1234.5, city: 'Oslo', years: [2020, 2024] }, text)).toBe(1);
    // "Bergen" and 99 are not on the page; "12" is not a number written there (it is inside 1,234.50 and 2024).
    expect(grounded({ name: 'acme widget', city: 'Bergen', price: 99, n: 12 }, text)).toBe(0.25);
    expect(grounded({ available: true, note: null }, text)).toBe(0);
  });

  it('weighs grounding, completeness and confidence; an answer not of the schema scores 0', () => {
    expect(qualityOf({ schema_valid: 1, required_filled: 1, grounded: 1, confidence: 1 })).toBe(1);
    expect(qualityOf({ schema_valid: 1, required_filled: 1, grounded: 0.5, confidence: 0.8 })).toBe(0.4 * 0.5 + 0.35 + 0.25 * 0.8);
    // Without a confidence, grounding and completeness share its weight.
    expect(qualityOf({ schema_valid: 1, required_filled: 1, grounded: 0, confidence: null })).toBeCloseTo(0.35 / 0.75, 3);
    expect(qualityOf({ schema_valid: 0, required_filled: 1, grounded: 1, confidence: 1 })).toBe(0);
  });

  it('measures the four parts together', () => {
    const d = measureQuality({ name: 'Widget', price: 3, tags: ['x'], seller: { city: null } }, SCHEMA, 'Widget for 3', true, 0.7);
    expect(d).toEqual({ schema_valid: 1, required_filled: 0.8, grounded: 0.667, confidence: 0.7 });
  });
});
