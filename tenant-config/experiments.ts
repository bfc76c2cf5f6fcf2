import { createHash } from 'node:crypto';
import { errorFunction } from 'simple-statistics';
import { z } from 'zod';
import { AutopilotError, badRequest } from '../lib/errors.ts';
import { promptNameSchema } from './prompts.ts';

/**
 * Prompt experiments, the logic only: which prompt versions compete and how
 * traffic splits, which arm an incident lands in, and whether an arm's
 * "helpful" rate differs from the control's.
 */

const variantSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, 'variant names are 1–32 letters, digits, ".", "_", "-"'),
  /** 0 is the built-in prompt (processors/analyze/prompt.ts DEFAULT_PROMPT); stored versions start at 1. */
  prompt_version: z.number().int().min(0),
  /** Percent of incidents; all weights sum to exactly 100. */
  weight: z.number().int().min(1).max(100),
});

export const experimentSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    prompt: promptNameSchema,
    variants: z.array(variantSchema).min(2, 'an experiment needs 2 to 10 variants').max(10, 'an experiment needs 2 to 10 variants'),
    /** The arm the others are compared with; the first variant when absent. */
    control: z.string().optional(),
    /** Feedback count each arm needs before a verdict. */
    min_sample: z.number().int().min(1).max(1_000_000).default(100),
  })
  .superRefine((e, ctx) => {
    const names = e.variants.map((v) => v.name);
    const dupes = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
    if (dupes.length > 0) ctx.addIssue({ code: 'custom', path: ['variants'], message: `variant names must be unique; repeated: ${dupes.join(', ')}` });
    const sum = e.variants.reduce((s, v) => s + v.weight, 0);
    if (sum !== 100) {
      ctx.addIssue({
        code: 'custom',
        path: ['variants'],
        message: `variant weights must sum to exactly 100; they sum to ${sum} (${e.variants.map((v) => `${v.name}: ${v.weight}`).join(', ')})`,
      });
    }
    if (e.control !== undefined && !names.includes(e.control)) {
      ctx.addIssue({ code: 'custom', path: ['control'], message: `control ${JSON.stringify(e.control)} is not one of the variants (${names.join(', ')})` });
    }
  })
  .transform((e) => ({ ...e, control: e.control ?? e.variants[0]!.name }));

export type Experiment = z.output<typeof experimentSchema>;
export type Variant = Experiment['variants'][number];

/** Validates an experiment from the API; 400 with every issue otherwise. */
export function parseExperiment(body: unknown): Experiment {
  const parsed = experimentSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw badRequest(`invalid experiment: ${details.map((d) => `${d.path || '(root)'}: ${d.message}`).join('; ')}`, details);
}

/**
 * The incident's bucket in [0, 100): SHA-256 of `${experimentId}:${incidentId}`,
 * first 8 bytes as an unsigned 64-bit integer, modulo 100 (the modulo bias
 * is under 100/2⁶⁴, nothing). Salted with the experiment's id so that two
 * experiments split incidents independently: unsalted, incident X would
 * land in bucket b in every experiment, and every 50/50 experiment would
 * give its first arm the very same incidents — an arm's luck (the easy
 * incidents) would repeat across experiments instead of averaging out.
 */
export function bucketOf(experimentId: string, incidentId: string): number {
  const digest = createHash('sha256').update(`${experimentId}:${incidentId}`).digest();
  return Number(digest.readBigUInt64BE(0) % 100n);
}

/** The variant an incident gets: stable for the same (experiment, incident), proportional to the weights. */
export function assignVariant(experiment: Pick<Experiment, 'variants'> & { id: string }, incidentId: string): Variant {
  const bucket = bucketOf(experiment.id, incidentId);
  let upper = 0;
  for (const v of experiment.variants) {
    upper += v.weight;
    if (bucket < upper) return v;
  }
  // Weights sum to 100 for a parsed experiment; a hand-made one that does not falls back to the last arm.
  return experiment.variants[experiment.variants.length - 1]!;
}

/**
 * Two-proportion z-test (pooled), two-sided: is x1/n1 different from
 * x2/n2? z = (p̂1 − p̂2) / √(p̂(1−p̂)(1/n1 + 1/n2)) with p̂ = (x1+x2)/(n1+n2);
 * p = erfc(|z|/√2) = 1 − erf(|z|/√2).
 *
 * erf is simple-statistics' `errorFunction`, the Numerical Recipes
 * Chebyshev fit whose erfc has a fractional error under 1.2·10⁻⁷ everywhere;
 * computed as 1 − erf, the p-value's absolute error stays under about
 * 1.2·10⁻⁷ (checked against exact quantiles in the tests), far finer than
 * the 0.05 threshold needs. Its `cumulativeStdNormalProbability` is not used:
 * it is a table lookup with z rounded to 0.01 and 4 decimals, which moves
 * p by up to ~0.001 near 1.96 (enough to flip a verdict) and gives p = 0
 * beyond the table.
 *
 * When both groups are all-helpful or all-unhelpful there is no variance
 * and no evidence of a difference: z = 0, p = 1.
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): { z: number; p_value: number } {
  for (const [x, n, which] of [
    [x1, n1, 1],
    [x2, n2, 2],
  ] as const) {
    if (!Number.isInteger(x) || !Number.isInteger(n) || n <= 0 || x < 0 || x > n) {
      throw new AutopilotError('internal', `two-proportion z-test: group ${which} needs integers 0 ≤ x ≤ n and n > 0, got x=${x}, n=${n}`);
    }
  }
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { z: 0, p_value: 1 };
  const z = (x1 / n1 - x2 / n2) / se;
  return { z, p_value: twoSidedP(z) };
}

/** P(|Z| ≥ |z|) for a standard normal Z: erfc(|z|/√2), as 1 − erf (see twoProportionZTest on precision). */
export function twoSidedP(z: number): number {
  return Math.min(1, Math.max(0, 1 - errorFunction(Math.abs(z) / Math.SQRT2)));
}

export interface VariantCounts {
  variant: string;
  /** Incidents analysed with this variant. */
  incidents: number;
  /** Of those, how many got feedback, and how many of those said "helpful". */
  feedback: number;
  helpful: number;
}

export type Verdict = 'not enough data' | 'better' | 'worse' | 'no significant difference';

export interface VariantReport {
  variant: string;
  prompt_version: number;
  weight: number;
  control: boolean;
  incidents: number;
  feedback: number;
  helpful: number;
  /** helpful / feedback; null without feedback. */
  helpful_rate: number | null;
  /** Against the control; null for the control itself and while either arm has no feedback. */
  vs_control: { z: number; p_value: number } | null;
  /** Null for the control. */
  verdict: Verdict | null;
}

export interface ExperimentReport {
  control: string;
  min_sample: number;
  alpha: number;
  variants: VariantReport[];
  /** Counts that named no variant of this experiment (a renamed arm, a bad query): shown, never merged. */
  unknown_variants: string[];
}

const ALPHA = 0.05;

/**
 * Each variant's helpful rate and, against the control, the z-test and a
 * verdict: "not enough data" while either arm has fewer than `min_sample`
 * feedbacks, then "better"/"worse" at p < 0.05, else "no significant
 * difference". Each arm is tested against the control at 0.05 on its own
 * (no correction for several arms): with many arms, expect the odd false
 * "better" and read the p-values.
 */
export function experimentReport(experiment: Pick<Experiment, 'variants' | 'control' | 'min_sample'>, counts: VariantCounts[]): ExperimentReport {
  const byName = new Map<string, VariantCounts>();
  for (const c of counts) {
    for (const k of ['incidents', 'feedback', 'helpful'] as const) {
      if (!Number.isInteger(c[k]) || c[k] < 0)
        throw new AutopilotError('internal', `experiment counts for ${c.variant}: ${k} must be a non-negative integer, got ${c[k]}`);
    }
    if (c.helpful > c.feedback)
      throw new AutopilotError('internal', `experiment counts for ${c.variant}: helpful (${c.helpful}) exceeds feedback (${c.feedback})`);
    const seen = byName.get(c.variant);
    byName.set(
      c.variant,
      seen ? { variant: c.variant, incidents: seen.incidents + c.incidents, feedback: seen.feedback + c.feedback, helpful: seen.helpful + c.helpful } : c,
    );
  }
  const countsOf = (name: string) => byName.get(name) ?? { variant: name, incidents: 0, feedback: 0, helpful: 0 };
  const control = countsOf(experiment.control);

  const variants = experiment.variants.map((v): VariantReport => {
    const c = countsOf(v.name);
    const isControl = v.name === experiment.control;
    const base = {
      variant: v.name,
      prompt_version: v.prompt_version,
      weight: v.weight,
      control: isControl,
      incidents: c.incidents,
      feedback: c.feedback,
      helpful: c.helpful,
      helpful_rate: c.feedback > 0 ? c.helpful / c.feedback : null,
    };
    if (isControl) return { ...base, vs_control: null, verdict: null };
    const test = c.feedback > 0 && control.feedback > 0 ? twoProportionZTest(c.helpful, c.feedback, control.helpful, control.feedback) : null;
    let verdict: Verdict;
    if (!test || c.feedback < experiment.min_sample || control.feedback < experiment.min_sample) verdict = 'not enough data';
    else if (test.p_value < ALPHA) verdict = test.z > 0 ? 'better' : 'worse';
    else verdict = 'no significant difference';
    return { ...base, vs_control: test, verdict };
  });

  const known = new Set(experiment.variants.map((v) => v.name));
  return {
    control: experiment.control,
    min_sample: experiment.min_sample,
    alpha: ALPHA,
    variants,
    unknown_variants: [...byName.keys()].filter((n) => !known.has(n)),
  };
}
