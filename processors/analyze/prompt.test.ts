import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../../lib/errors.ts';
import { DEFAULT_PROMPT, promptVariables, renderTemplate, templateVariables } from './prompt.ts';
import { incident } from '../../test/fixtures/analysis.ts';

describe('prompt templates', () => {
  it('the built-in prompt renders with the variables every analysis offers', () => {
    expect(DEFAULT_PROMPT).toMatchObject({ name: 'incident-analysis', version: 0 });
    expect(templateVariables(DEFAULT_PROMPT.template)).toEqual(expect.arrayContaining(['service', 'severity', 'context', 'answer_schema']));
    const text = renderTemplate(DEFAULT_PROMPT.template, promptVariables(incident(), 'CONTEXT-MARKER'));
    expect(text).not.toMatch(/\{\{/);
    expect(text).toContain('Service: checkout');
    expect(text).toContain('severity critical');
    expect(text).toContain('--- context ---\nCONTEXT-MARKER\n--- end of context ---');
    expect(text).toMatch(/facts and hypotheses apart/);
    expect(text).toContain('"recommended_actions"');
  });

  it('fills placeholders once, with or without spaces, and never expands a value', () => {
    expect(renderTemplate('{{a}} and {{ a }} then {{b}}', { a: '{{b}}', b: 2 })).toBe('{{b}} and {{b}} then 2');
  });

  it('refuses a missing variable, naming it', () => {
    let thrown: unknown;
    try {
      renderTemplate('Service {{service}} in {{region}} at {{zone}}', { service: 'checkout' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AutopilotError);
    expect((thrown as AutopilotError).message).toBe('prompt template uses {{region}}, {{zone}} but no value was given for them');
    expect((thrown as AutopilotError).details).toMatchObject({ missing: ['region', 'zone'] });
  });
});
