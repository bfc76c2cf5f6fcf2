import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../lib/errors.ts';
import { DEFAULT_PROMPT, renderTemplate, templateVariables } from '../processors/analyze/prompt.ts';
import { checkPromptName, checkTagName, extractVariables, parsePromptVersion, unifiedDiff, validateTemplate } from './prompts.ts';

function refusal(fn: () => unknown): AutopilotError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AutopilotError);
    expect((err as AutopilotError).status).toBe(400);
    return err as AutopilotError;
  }
  throw new Error('expected a refusal');
}

describe('extractVariables', () => {
  it('finds each {{ name }} once, in order of first use, with or without spaces', () => {
    expect(extractVariables('Service {{service}} in {{ tenant }}: {{  service  }} {{context}}')).toEqual(['service', 'tenant', 'context']);
    expect(extractVariables('no placeholders, { single } braces and {"json": 1} are text')).toEqual([]);
  });

  it('agrees with the renderer (prompt.ts) on the built-in prompt', () => {
    const vars = extractVariables(DEFAULT_PROMPT.template);
    expect(vars).toEqual(templateVariables(DEFAULT_PROMPT.template));
    expect(vars).toContain('context');
    // Every variable found renders, and nothing placeholder-like is left.
    const rendered = renderTemplate(DEFAULT_PROMPT.template, Object.fromEntries(vars.map((v) => [v, `<${v}>`])));
    expect(rendered).not.toMatch(/\{\{|\}\}/);
  });

  it('refuses unbalanced braces and empty or invalid names, listing every position', () => {
    const err = refusal(() => extractVariables('Hello {{ name }\nline two {{ }} and }} here\n{{ 9lives }} {{ ok }} {{ a-b }}'));
    expect(err.message).toBe(
      "invalid prompt template: line 1, column 7: '{{' is not closed by '}}'; " +
        'line 2, column 10: empty variable name in {{ }}; ' +
        "line 2, column 20: '}}' without a matching '{{'; " +
        'line 3, column 1: invalid variable name "9lives": use letters, digits and _, not starting with a digit; ' +
        'line 3, column 23: invalid variable name "a-b": use letters, digits and _, not starting with a digit',
    );
    expect((err.details as { problems: unknown[] }).problems).toHaveLength(5);
  });

  it('refuses a {{ that is still open when the next one starts', () => {
    expect(refusal(() => extractVariables('{{ a {{ b }}')).message).toBe("invalid prompt template: line 1, column 1: '{{' is not closed by '}}'");
    expect(refusal(() => extractVariables('tail {{')).message).toMatch(/column 6: '\{\{' is not closed/);
  });
});

describe('validateTemplate', () => {
  it('returns the variables and requires the ones asked for', () => {
    expect(validateTemplate('{{context}} {{service}}', ['context'])).toEqual(['context', 'service']);
    const err = refusal(() => validateTemplate('{{service}}', ['context', 'answer_schema']));
    expect(err.message).toBe('invalid prompt template: it must use {{context}}, {{answer_schema}}');
    expect(err.details).toEqual({ missing: ['context', 'answer_schema'], variables: ['service'] });
  });

  it('refuses an empty template', () => {
    expect(refusal(() => validateTemplate('   ')).message).toMatch(/empty/);
  });
});

describe('parsePromptVersion', () => {
  it('validates the body and returns what the store takes', () => {
    expect(parsePromptVersion({ template: 'Analyse {{context}}', changelog: ' shorter ', parent_version: 2 })).toEqual({
      template: 'Analyse {{context}}',
      variables: ['context'],
      changelog: 'shorter',
      parent_version: 2,
    });
    expect(parsePromptVersion({ template: 'x', changelog: 'first' }).parent_version).toBeNull();
  });

  it('refuses missing fields, unknown keys, bad parents and bad templates', () => {
    expect(refusal(() => parsePromptVersion({ template: 'x' })).message).toMatch(/changelog/);
    expect(refusal(() => parsePromptVersion({ template: 'x', changelog: 'c', author: 'me' })).message).toMatch(/author/);
    expect(refusal(() => parsePromptVersion({ template: 'x', changelog: 'c', parent_version: 0 })).message).toMatch(/parent_version/);
    expect(refusal(() => parsePromptVersion({ template: '{{ }}', changelog: 'c' })).message).toMatch(/empty variable name/);
    expect(refusal(() => parsePromptVersion({ template: '{{a}}', changelog: 'c' }, ['context'])).message).toMatch(/must use \{\{context\}\}/);
  });
});

describe('names and tags', () => {
  it('accepts prompt names by the rule and refuses others', () => {
    for (const ok of ['incident-analysis', 'a', '0day', 'v1.2_final', 'x'.repeat(64)]) expect(checkPromptName(ok)).toBe(ok);
    for (const bad of ['', 'Incident', '-lead', '.hidden', 'has space', 'x'.repeat(65), 'a/b']) {
      expect(refusal(() => checkPromptName(bad)).message).toMatch(/invalid prompt name/);
    }
  });

  it('accepts production, candidate and any tag by the rule', () => {
    for (const ok of ['production', 'candidate', 'canary-2', 'x'.repeat(32)]) expect(checkTagName(ok)).toBe(ok);
    for (const bad of ['', 'Production', '2nd', 'a_b', 'x'.repeat(33), 'with.dot']) expect(refusal(() => checkTagName(bad)).message).toMatch(/invalid tag/);
    expect(refusal(() => checkTagName('latest')).message).toMatch(/reserved/);
  });
});

describe('unifiedDiff', () => {
  it('diffs two versions with name@version headers', () => {
    const diff = unifiedDiff(
      'incident-analysis',
      { version: 1, template: 'You are an SRE.\nService: {{service}}\nAnswer in JSON.\n' },
      { version: 2, template: 'You are an SRE.\nService: {{service}} ({{tenant}})\nAnswer in JSON.\n' },
    );
    expect(diff).toBe(
      [
        '--- incident-analysis@v1',
        '+++ incident-analysis@v2',
        '@@ -1,3 +1,3 @@',
        ' You are an SRE.',
        '-Service: {{service}}',
        '+Service: {{service}} ({{tenant}})',
        ' Answer in JSON.',
        '',
      ].join('\n'),
    );
  });

  it('is only the headers when nothing changed', () => {
    expect(unifiedDiff('p', { version: 3, template: 'same\n' }, { version: 5, template: 'same\n' })).toBe('--- p@v3\n+++ p@v5\n');
  });
});
