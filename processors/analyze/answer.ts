import { z } from 'zod';
import { SEVERITIES } from '../../lib/severity.ts';

/**
 * What the model must answer: a root cause with an honest confidence, ranked
 * actions with their risk, a severity and the likely customer impact. The
 * rules (rules.ts) answer in the same shape, so a reader never needs to know
 * which one spoke.
 *
 * Lenient where models wobble and the meaning is unchanged, strict where it is
 * not: unknown keys are dropped rather than refused (a model that adds a
 * "notes" field still gave a usable answer, and refusing it would throw the
 * answer away for the rules' weaker one), and enum values are compared without
 * case ("High" is high). Types, ranges and required fields are enforced: a
 * confidence of 0.8 or 850 is not guessed at. The JSON schema handed to Ollama
 * still says `additionalProperties: false`, so a constrained decoder never
 * produces extra keys in the first place.
 */
const caseless = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(values));

const text = z.string().trim().min(1);

const RISKS = ['low', 'medium', 'high'] as const;

export const AnalysisAnswer = z.object({
  root_cause: z.object({
    description: text,
    confidence: z.number().min(0).max(100),
    reasoning: text,
  }),
  recommended_actions: z.array(
    z.object({
      action: text,
      reasoning: text,
      risk: caseless(RISKS),
      priority: z.number().int().min(1),
    }),
  ),
  severity: caseless(SEVERITIES),
  estimated_customer_impact: text,
});

export type AnalysisAnswer = z.infer<typeof AnalysisAnswer>;

/**
 * The answer's JSON schema, passed as Ollama's `format`. The `$schema` tag and
 * zod's implicit safe-integer maximum are left out: they say nothing to the
 * model and only grow the grammar Ollama builds from the schema.
 */
export const ANSWER_JSON_SCHEMA: Record<string, unknown> = (() => {
  const { $schema: _, ...schema } = z.toJSONSchema(AnalysisAnswer, {
    override: ({ jsonSchema }) => {
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    },
  });
  return schema;
})();
