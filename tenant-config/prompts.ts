import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { z } from 'zod';
import { badRequest } from '../lib/errors.ts';

/** The variables a template may use (what the analyst's promptVariables fills in); a new prompt version is checked against them. */
export const PROMPT_VARIABLES = [
  'service',
  'tenant',
  'incident_id',
  'status',
  'severity',
  'opened_at',
  'signal_count',
  'suspect_version',
  'context',
  'answer_schema',
] as const;

/**
 * The rules of the prompt registry, without its storage: what a prompt name,
 * a tag and a new version may be, which `{{ variables }}` a template uses,
 * and the diff between two versions.
 */

const PROMPT_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const promptNameSchema = z.string().regex(PROMPT_NAME, 'prompt names are 1–64 of a-z, 0-9, ".", "_", "-", starting with a letter or digit');

/** Tags point at a version and move (the analyst reads `production`). */
const TAG_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** "latest" always means the newest version; a tag by that name could point elsewhere and mislead. */
const RESERVED_TAGS = new Set(['latest']);
export const tagNameSchema = z
  .string()
  .regex(TAG_NAME, 'tags are 1–32 of a-z, 0-9, "-", starting with a letter')
  .refine((t) => !RESERVED_TAGS.has(t), 'the tag "latest" is reserved: it always means the newest version');

/** Same rule as the renderer's placeholders (processors/analyze/prompt.ts), so what validates is what renders. */
const VARIABLE_NAME = /^[A-Za-z_]\w*$/;
const MAX_TEMPLATE_CHARS = 100_000;

interface TemplateProblem {
  /** 1-based, like an editor shows it. */
  line: number;
  column: number;
  message: string;
}

/** The variables a template uses, each once, in order of first use, and what is wrong with its braces. */
function scanTemplate(template: string): { variables: string[]; problems: TemplateProblem[] } {
  const variables = new Set<string>();
  const problems: TemplateProblem[] = [];
  const at = (offset: number, message: string) => problems.push({ ...position(template, offset), message });
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    const close = template.indexOf('}}', i);
    if (open === -1 && close === -1) break;
    if (open === -1 || (close !== -1 && close < open)) {
      at(close, "'}}' without a matching '{{'");
      i = close + 2;
      continue;
    }
    const end = template.indexOf('}}', open + 2);
    const nextOpen = template.indexOf('{{', open + 2);
    if (end === -1 || (nextOpen !== -1 && nextOpen < end)) {
      at(open, "'{{' is not closed by '}}'");
      i = open + 2;
      continue;
    }
    const name = template.slice(open + 2, end).trim();
    if (name === '') at(open, 'empty variable name in {{ }}');
    else if (!VARIABLE_NAME.test(name)) at(open, `invalid variable name ${JSON.stringify(name)}: use letters, digits and _, not starting with a digit`);
    else variables.add(name);
    i = end + 2;
  }
  return { variables: [...variables], problems };
}

/**
 * The `{{ name }}` placeholders of a template, each once, in order of first
 * use. Unbalanced braces, empty or invalid names are refused (400) with
 * every problem's line and column: a typo like `{{ context }` would
 * otherwise reach the model as literal text.
 */
export function extractVariables(template: string): string[] {
  const { variables, problems } = scanTemplate(template);
  if (problems.length > 0) throw badRequest(`invalid prompt template: ${describeProblems(problems)}`, { problems });
  return variables;
}

/** `extractVariables`, and every name in `required` must be used. Returns the variables. */
export function validateTemplate(template: string, required: string[] = []): string[] {
  if (template.trim() === '') throw badRequest('invalid prompt template: it is empty');
  if (template.length > MAX_TEMPLATE_CHARS) throw badRequest(`invalid prompt template: longer than ${MAX_TEMPLATE_CHARS} characters`);
  const variables = extractVariables(template);
  const missing = required.filter((name) => !variables.includes(name));
  if (missing.length > 0) {
    throw badRequest(`invalid prompt template: it must use ${missing.map((m) => `{{${m}}}`).join(', ')}`, { missing, variables });
  }
  return variables;
}

/** Body of "create a prompt version". Strict: unknown keys are refused. */
export const createPromptVersionSchema = z.strictObject({
  template: z.string().min(1).max(MAX_TEMPLATE_CHARS),
  changelog: z.string().trim().min(1, 'say what changed').max(2000),
  /** The version this one was edited from; null/absent for a first version or a rewrite. */
  parent_version: z.number().int().min(1).nullable().optional(),
});

/** A validated new version, in the shape the store takes (sql/stores/prompts.ts NewPromptVersion). */
export interface ParsedPromptVersion {
  template: string;
  variables: string[];
  changelog: string;
  parent_version: number | null;
}

/**
 * Validates the body of "create a prompt version": schema, then the
 * template. Whether `parent_version` exists is the store's question.
 */
export function parsePromptVersion(body: unknown, required: string[] = []): ParsedPromptVersion {
  const parsed = createPromptVersionSchema.safeParse(body);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw badRequest(`invalid prompt version: ${details.map((d) => `${d.path || '(root)'}: ${d.message}`).join('; ')}`, details);
  }
  const { template, changelog, parent_version } = parsed.data;
  return { template, variables: validateTemplate(template, required), changelog, parent_version: parent_version ?? null };
}

/** Refuses a bad prompt name or tag with a 400 that says the rule. */
export function checkPromptName(name: string): string {
  const r = promptNameSchema.safeParse(name);
  if (!r.success) throw badRequest(`invalid prompt name ${JSON.stringify(name)}: ${r.error.issues[0]!.message}`);
  return r.data;
}
export function checkTagName(tag: string): string {
  const r = tagNameSchema.safeParse(tag);
  if (!r.success) throw badRequest(`invalid tag ${JSON.stringify(tag)}: ${r.error.issues[0]!.message}`);
  return r.data;
}

/**
 * A unified diff from version a to version b, headed
 * `--- incident-analysis@v1` / `+++ incident-analysis@v2` (no "Index:" line,
 * which means nothing here); only the headers when the templates are equal.
 */
export function unifiedDiff(name: string, a: { version: number; template: string }, b: { version: number; template: string }): string {
  return createTwoFilesPatch(`${name}@v${a.version}`, `${name}@v${b.version}`, a.template, b.template, undefined, undefined, {
    headerOptions: FILE_HEADERS_ONLY,
    context: 3,
  });
}

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

const MAX_LISTED = 10;
function describeProblems(problems: TemplateProblem[]): string {
  const listed = problems.slice(0, MAX_LISTED).map((p) => `line ${p.line}, column ${p.column}: ${p.message}`);
  if (problems.length > MAX_LISTED) listed.push(`and ${problems.length - MAX_LISTED} more`);
  return listed.join('; ');
}
