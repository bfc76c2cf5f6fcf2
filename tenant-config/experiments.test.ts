import { createHash } from 'node:crypto';
import { cumulativeStdNormalProbability } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../lib/errors.ts';
import { assignVariant, bucketOf, experimentReport, parseExperiment, twoProportionZTest, twoSidedP, type Experiment } from './experiments.ts';

const fiftyFifty = (): Experiment =>
  parseExperiment({
    name: 'shorter context',
    prompt: 'incident-analysis',
    variants: [
      { name: 'control', prompt_version: 3, weight: 50 },
      { name: 'short', prompt_version: 4, weight: 50 },
    ],
  });

describe('experiment schema', () => {
  it('parses, defaulting control to the first variant and min_sample to 100', () => {
    expect(fiftyFifty()).toEqual({
      name: 'shorter context',
      prompt: 'incident-analysis',
      variants: [
        { name: 'control', prompt_version: 3, weight: 50 },
        { name: 'short', prompt_version: 4, weight: 50 },
      ],
      control: 'control',
      min_sample: 100,
    });
  });

  function refusal(body: unknown): AutopilotError {
    try {
      parseExperiment(body);
    } catch (err) {
      expect(err).toBeInstanceOf(AutopilotError);
      expect((err as AutopilotError).status).toBe(400);
      return err as AutopilotError;
    }
    throw new Error('expected a refusal');
  }
  const variants = (...weights: number[]) => weights.map((weight, i) => ({ name: `v${i}`, prompt_version: i + 1, weight }));

  it('refuses weights that do not sum to exactly 100, saying what they sum to', () => {
    expect(refusal({ name: 'x', prompt: 'p', variants: variants(50, 40) }).message).toBe(
      'invalid experiment: variants: variant weights must sum to exactly 100; they sum to 90 (v0: 50, v1: 40)',
    );
    expect(refusal({ name: 'x', prompt: 'p', variants: variants(60, 30, 20) }).message).toMatch(/sum to 110/);
    expect(refusal({ name: 'x', prompt: 'p', variants: variants(50.5, 49.5) }).message).toMatch(/expected int/);
  });

  it('refuses fewer than 2 or more than 10 variants, repeated names, an unknown control, unknown keys', () => {
    expect(refusal({ name: 'x', prompt: 'p', variants: variants(100) }).message).toMatch(/2 to 10 variants/);
    expect(refusal({ name: 'x', prompt: 'p', variants: variants(...Array(11).fill(1)) }).message).toMatch(/2 to 10 variants/);
    expect(
      refusal({
        name: 'x',
        prompt: 'p',
        variants: [
          { name: 'a', prompt_version: 1, weight: 50 },
          { name: 'a', prompt_version: 2, weight: 50 },
        ],
      }).message,
    ).toMatch(/unique; repeated: a/);
    expect(refusal({ name: 'x', prompt: 'p', variants: variants(50, 50), control: 'v9' }).message).toMatch(
      /control "v9" is not one of the variants \(v0, v1\)/,
    );
    expect(refusal({ name: 'x', prompt: 'p', variants: variants(50, 50), traffic: 1 }).message).toMatch(/traffic/);
    expect(refusal({ name: 'x', prompt: 'Bad Name', variants: variants(50, 50) }).message).toMatch(/prompt/);
  });
});

describe('assignVariant', () => {
  it('gives the same incident the same variant every time', () => {
    const e = { ...fiftyFifty(), id: 'exp-1' };
    for (let i = 0; i < 200; i++) {
      const first = assignVariant(e, `inc-${i}`).name;
      for (let k = 0; k < 3; k++) expect(assignVariant(e, `inc-${i}`).name).toBe(first);
    }
    // And the bucket is the documented SHA-256 construction, not just any stable hash.
    expect(bucketOf('exp-1', 'inc-0')).toBe(Number(Buffer.from(sha256Hex('exp-1:inc-0'), 'hex').readBigUInt64BE(0) % 100n));
  });

  function shares(e: Experiment & { id: string }, n: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const v = assignVariant(e, `incident-${i}`).name;
      counts[v] = (counts[v] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(counts).map(([k, c]) => [k, (100 * c) / n]));
  }

  it('splits 10,000 incidents 50/50 within 2 percentage points', () => {
    const s = shares({ ...fiftyFifty(), id: 'exp-5050' }, 10_000);
    expect(Math.abs(s.control! - 50)).toBeLessThanOrEqual(2);
    expect(Math.abs(s.short! - 50)).toBeLessThanOrEqual(2);
  });

  it('splits 10,000 incidents 70/20/10 within 2 percentage points', () => {
    const e = parseExperiment({
      name: 'three arms',
      prompt: 'incident-analysis',
      variants: [
        { name: 'a', prompt_version: 1, weight: 70 },
        { name: 'b', prompt_version: 2, weight: 20 },
        { name: 'c', prompt_version: 3, weight: 10 },
      ],
    });
    const s = shares({ ...e, id: 'exp-70-20-10' }, 10_000);
    expect(Math.abs(s.a! - 70)).toBeLessThanOrEqual(2);
    expect(Math.abs(s.b! - 20)).toBeLessThanOrEqual(2);
    expect(Math.abs(s.c! - 10)).toBeLessThanOrEqual(2);
  });

  it('salts with the experiment id: two experiments split the same incidents independently', () => {
    const one = { ...fiftyFifty(), id: 'exp-A' };
    const two = { ...fiftyFifty(), id: 'exp-B' };
    let same = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) if (assignVariant(one, `inc-${i}`).name === assignVariant(two, `inc-${i}`).name) same++;
    // Independent 50/50 splits agree about half the time; unsalted they would agree always.
    expect(same / n).toBeGreaterThan(0.45);
    expect(same / n).toBeLessThan(0.55);
  });
});

describe('twoProportionZTest', () => {
  it('matches the textbook: Illowsky & Dean, OpenStax Introductory Statistics, "Comparing Two Independent Population Proportions", hives example', () => {
    // Medication A: 20 of 200 still had hives; medication B: 12 of 200. The text pools p_c = 32/400 = 0.08
    // and publishes the two-sided p-value 0.1404. Its formula gives z = 0.04 / √(0.08·0.92·(1/200 + 1/200)) = 1.474.
    const { z, p_value } = twoProportionZTest(20, 200, 12, 200);
    expect(z).toBeCloseTo(1.474, 3);
    expect(p_value).toBeCloseTo(0.1404, 4);
    // Symmetric: swapping the groups flips z, not p.
    expect(twoProportionZTest(12, 200, 20, 200).z).toBeCloseTo(-1.474, 3);
    expect(twoProportionZTest(12, 200, 20, 200).p_value).toBeCloseTo(0.1404, 4);
  });

  it('matches the TI-83 2-PropZTest walkthrough (Prentice Hall calculator guide): 44/200 vs 54/300, p = .270', () => {
    // p̂1 = .22, p̂2 = .18, pooled 98/500 = .196; z = .04 / √(.196·.804·(1/200 + 1/300)) = 1.104.
    const { z, p_value } = twoProportionZTest(44, 200, 54, 300);
    expect(z).toBeCloseTo(1.104, 3);
    expect(p_value).toBeCloseTo(0.27, 3);
  });

  it('matches Illowsky & Dean (Collaborative Statistics practice): 9 of 1000 North Dakotans vs 17 of 500 Nevadans, one-sided p ≈ 0.0002', () => {
    // The book's answer is the one-sided p-value, 0.0002; ours is two-sided, so half of it.
    const { z, p_value } = twoProportionZTest(9, 1000, 17, 500);
    expect(z).toBeCloseTo(-3.497, 3);
    expect(p_value / 2).toBeCloseTo(0.0002, 4);
  });

  it('is precise enough for p-values: within 1.2e-7 relative of exact normal tail areas', () => {
    // Exact two-sided tail areas 2·(1 − Φ(z)) = erfc(z/√2), to double precision.
    const exact: [number, number][] = [
      [0.5, 0.6170750774519738],
      [1, 0.31731050786291415],
      [1.959963984540054, 0.05],
      [2, 0.04550026389635842],
      [2.5758293035489004, 0.01],
      [3, 0.0026997960632601866],
      [3.2905267314918945, 0.001],
      [4, 6.334248366623996e-5],
      [5, 5.733031438470704e-7],
    ];
    for (const [z, p] of exact) {
      // Counts cannot hit an exact z, so check the tail function twoProportionZTest uses.
      const got = twoSidedP(z);
      expect(twoSidedP(-z)).toBe(got);
      expect(Math.abs(got - p) / p).toBeLessThan(1.2e-7);
    }
    // The table lookup would not do: z = 1.955 (true p = 0.0506) reads as exactly 0.05, and z = 4.5 as 0.002.
    expect(2 * (1 - cumulativeStdNormalProbability(1.955))).toBeCloseTo(0.05, 10);
    expect(twoSidedP(1.955)).toBeCloseTo(0.0506, 4);
  });

  it('gives z = 0, p = 1 when there is no variance at all', () => {
    expect(twoProportionZTest(0, 50, 0, 80)).toEqual({ z: 0, p_value: 1 });
    expect(twoProportionZTest(50, 50, 80, 80)).toEqual({ z: 0, p_value: 1 });
  });

  it('refuses counts that are not counts', () => {
    expect(() => twoProportionZTest(5, 0, 1, 2)).toThrow(/n > 0/);
    expect(() => twoProportionZTest(6, 5, 1, 2)).toThrow(/0 ≤ x ≤ n/);
    expect(() => twoProportionZTest(1.5, 5, 1, 2)).toThrow(/integers/);
  });
});

describe('experimentReport', () => {
  const e = fiftyFifty();

  it('says "not enough data" while either arm has fewer feedbacks than min_sample', () => {
    const r = experimentReport(e, [
      { variant: 'control', incidents: 300, feedback: 99, helpful: 40 },
      { variant: 'short', incidents: 300, feedback: 250, helpful: 200 },
    ]);
    const short = r.variants.find((v) => v.variant === 'short')!;
    expect(short.verdict).toBe('not enough data');
    expect(short.vs_control).not.toBeNull(); // the numbers are shown, the verdict waits
    expect(r.variants.find((v) => v.variant === 'control')).toMatchObject({ control: true, verdict: null, vs_control: null, helpful_rate: 40 / 99 });
  });

  it('calls a significantly higher helpful rate better, a lower one worse, and otherwise no difference', () => {
    const better = experimentReport(e, [
      { variant: 'control', incidents: 400, feedback: 200, helpful: 100 },
      { variant: 'short', incidents: 400, feedback: 200, helpful: 130 },
    ]).variants[1]!;
    expect(better.helpful_rate).toBeCloseTo(0.65, 10);
    expect(better.vs_control!.p_value).toBeLessThan(0.05);
    expect(better.verdict).toBe('better');

    const worse = experimentReport(e, [
      { variant: 'control', incidents: 400, feedback: 200, helpful: 130 },
      { variant: 'short', incidents: 400, feedback: 200, helpful: 100 },
    ]).variants[1]!;
    expect(worse.verdict).toBe('worse');

    const same = experimentReport(e, [
      { variant: 'control', incidents: 400, feedback: 200, helpful: 100 },
      { variant: 'short', incidents: 400, feedback: 200, helpful: 108 },
    ]).variants[1]!;
    expect(same.vs_control!.p_value).toBeGreaterThan(0.05);
    expect(same.verdict).toBe('no significant difference');
  });

  it('compares against the named control, fills in arms without counts, and lists unknown ones', () => {
    const three = parseExperiment({
      name: 'x',
      prompt: 'incident-analysis',
      control: 'b',
      variants: [
        { name: 'a', prompt_version: 1, weight: 40 },
        { name: 'b', prompt_version: 2, weight: 40 },
        { name: 'c', prompt_version: 3, weight: 20 },
      ],
      min_sample: 10,
    });
    const r = experimentReport(three, [
      { variant: 'b', incidents: 50, feedback: 40, helpful: 10 },
      { variant: 'a', incidents: 50, feedback: 40, helpful: 30 },
      { variant: 'old-arm', incidents: 5, feedback: 5, helpful: 5 },
    ]);
    expect(r.control).toBe('b');
    expect(r.variants.map((v) => [v.variant, v.verdict])).toEqual([
      ['a', 'better'],
      ['b', null],
      ['c', 'not enough data'],
    ]);
    expect(r.variants[2]).toMatchObject({ incidents: 0, feedback: 0, helpful_rate: null, vs_control: null });
    expect(r.unknown_variants).toEqual(['old-arm']);
  });

  it('refuses impossible counts', () => {
    expect(() => experimentReport(e, [{ variant: 'control', incidents: 1, feedback: 2, helpful: 3 }])).toThrow(/helpful \(3\) exceeds feedback \(2\)/);
    expect(() => experimentReport(e, [{ variant: 'control', incidents: -1, feedback: 0, helpful: 0 }])).toThrow(/non-negative integer/);
  });
});

const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');
