import { describe, expect, it } from 'vitest';
import { AnalysisAnswer, ANSWER_JSON_SCHEMA } from './answer.ts';
import { VALID_ANSWER as VALID } from '../../test/fixtures/analysis.ts';

describe('AnalysisAnswer', () => {
  it('accepts a valid answer, dropping keys it does not know and reading enums without case', () => {
    const parsed = AnalysisAnswer.parse({
      ...VALID,
      notes: 'extra',
      severity: 'High',
      recommended_actions: [{ ...VALID.recommended_actions[0], risk: ' LOW ', extra: 1 }],
    });
    expect(parsed).toEqual(VALID);
  });

  it.each([
    ['confidence above 100', { ...VALID, root_cause: { ...VALID.root_cause, confidence: 850 } }],
    ['confidence as text', { ...VALID, root_cause: { ...VALID.root_cause, confidence: 'high' } }],
    ['priority 0', { ...VALID, recommended_actions: [{ ...VALID.recommended_actions[0], priority: 0 }] }],
    ['fractional priority', { ...VALID, recommended_actions: [{ ...VALID.recommended_actions[0], priority: 1.5 }] }],
    ['unknown risk', { ...VALID, recommended_actions: [{ ...VALID.recommended_actions[0], risk: 'none' }] }],
    ['unknown severity', { ...VALID, severity: 'sev1' }],
    ['empty description', { ...VALID, root_cause: { ...VALID.root_cause, description: '  ' } }],
    ['missing impact', { ...VALID, estimated_customer_impact: undefined }],
  ])('refuses %s', (_name, answer) => {
    expect(AnalysisAnswer.safeParse(answer).success).toBe(false);
  });

  it('exports the JSON schema Ollama constrains the answer with', () => {
    const schema = ANSWER_JSON_SCHEMA as any;
    expect(schema.$schema).toBeUndefined();
    expect(schema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['root_cause', 'recommended_actions', 'severity', 'estimated_customer_impact'],
    });
    expect(schema.properties.root_cause.properties.confidence).toEqual({ type: 'number', minimum: 0, maximum: 100 });
    expect(schema.properties.recommended_actions.items.properties.risk.enum).toEqual(['low', 'medium', 'high']);
    expect(schema.properties.recommended_actions.items.properties.priority).toEqual({ type: 'integer', minimum: 1 });
    expect(schema.properties.severity.enum).toEqual(['low', 'medium', 'high', 'critical']);
  });
});
