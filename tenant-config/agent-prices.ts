import { z } from 'zod';
import { badRequest } from '../lib/errors.ts';
import type { ModelPrice, PriceVersion } from '../sql/stores/agent-prices.ts';

export type { ModelPrice };

/**
 * LLM prices per model, in USD per million tokens, and how a call is priced.
 *
 * Every tenant starts from DEFAULT_PRICES (the providers' public price pages
 * on DEFAULT_PRICES_DATE) and may override any model or add its own. Each
 * change is a new version of the tenant's table (sql/stores/agent-prices.ts);
 * version 0 is the built-in table alone. A call is priced with the version in
 * force when it started, so replaying a call gives the same cost, and a price
 * change does not reprice calls made before it.
 */

/** The day the built-in prices were read from the providers' public price pages. */
export const DEFAULT_PRICES_DATE = '2025-08-15';

const p = (input: number, cached: number, output: number): ModelPrice => ({ input_per_mtok: input, output_per_mtok: output, cached_input_per_mtok: cached });

/**
 * Standard (not batch, not priority) prices for prompts up to the providers'
 * first context tier, as of DEFAULT_PRICES_DATE. A model without a cache
 * discount has its cached rate equal to its input rate. Models served on
 * your own hardware (Ollama, vLLM) have no per-token price: they are listed
 * at 0 so their calls are priced rather than unknown; override them to
 * charge for the hardware.
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  // OpenAI (openai.com/api/pricing)
  'gpt-5': p(1.25, 0.125, 10),
  'gpt-5-mini': p(0.25, 0.025, 2),
  'gpt-5-nano': p(0.05, 0.005, 0.4),
  'gpt-4.1': p(2, 0.5, 8),
  'gpt-4.1-mini': p(0.4, 0.1, 1.6),
  'gpt-4.1-nano': p(0.1, 0.025, 0.4),
  'gpt-4o': p(2.5, 1.25, 10),
  'gpt-4o-mini': p(0.15, 0.075, 0.6),
  'gpt-3.5-turbo': p(0.5, 0.5, 1.5),
  o1: p(15, 7.5, 60),
  'o1-mini': p(1.1, 0.55, 4.4),
  'o1-pro': p(150, 150, 600),
  o3: p(2, 0.5, 8),
  'o3-mini': p(1.1, 0.55, 4.4),
  'o3-pro': p(20, 20, 80),
  'o4-mini': p(1.1, 0.275, 4.4),
  'text-embedding-3-small': p(0.02, 0.02, 0),
  'text-embedding-3-large': p(0.13, 0.13, 0),
  // Anthropic (anthropic.com/pricing; cached = cache read)
  'claude-opus-4-1': p(15, 1.5, 75),
  'claude-opus-4': p(15, 1.5, 75),
  'claude-sonnet-4': p(3, 0.3, 15),
  'claude-3-7-sonnet': p(3, 0.3, 15),
  'claude-3-5-sonnet': p(3, 0.3, 15),
  'claude-3-5-haiku': p(0.8, 0.08, 4),
  'claude-3-opus': p(15, 1.5, 75),
  'claude-3-haiku': p(0.25, 0.03, 1.25),
  // Google (ai.google.dev/gemini-api/docs/pricing; prompts up to 200k tokens)
  'gemini-2.5-pro': p(1.25, 0.31, 10),
  'gemini-2.5-flash': p(0.3, 0.075, 2.5),
  'gemini-2.5-flash-lite': p(0.1, 0.025, 0.4),
  'gemini-2.0-flash': p(0.1, 0.025, 0.4),
  'gemini-2.0-flash-lite': p(0.075, 0.075, 0.3),
  'gemini-1.5-pro': p(1.25, 0.3125, 5),
  'gemini-1.5-flash': p(0.075, 0.01875, 0.3),
  // Open-weight models on their makers' APIs (mistral.ai/pricing, api-docs.deepseek.com; cached = cache hit)
  'mistral-large': p(2, 2, 6),
  'mistral-medium': p(0.4, 0.4, 2),
  'mistral-small': p(0.1, 0.1, 0.3),
  'deepseek-chat': p(0.27, 0.07, 1.1),
  'deepseek-reasoner': p(0.55, 0.14, 2.19),
  // Served on your own hardware (Ollama names): no per-token price
  llama3: p(0, 0, 0),
  'llama3.1': p(0, 0, 0),
  'llama3.2': p(0, 0, 0),
  'llama3.3': p(0, 0, 0),
  'qwen2.5': p(0, 0, 0),
  qwen3: p(0, 0, 0),
  gemma3: p(0, 0, 0),
  mistral: p(0, 0, 0),
};

const rate = z
  .number({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a number (USD per million tokens)') })
  .finite()
  .min(0, 'must not be negative')
  .max(1_000_000, 'at most 1,000,000 USD per million tokens');

/** A price as PUT /v1/agent-prices/{model} takes it; without a cached rate, cached tokens cost the input rate. */
export const modelPriceInputSchema = z.strictObject({
  input_per_mtok: rate,
  output_per_mtok: rate,
  cached_input_per_mtok: rate.optional(),
});
export type ModelPriceInput = z.input<typeof modelPriceInputSchema>;

/** Model names as senders spell them (`gpt-4o-mini-2024-07-18`, `llama3.1:8b`, `accounts/x/models/y`): printable, no spaces. */
export const modelNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'at most 256 characters')
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/** Parses a PUT body into a price, or throws `bad_request` listing every problem as `{path, message}`. */
export function parseModelPrice(body: unknown): ModelPrice {
  const parsed = modelPriceInputSchema.safeParse(body);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw badRequest(`invalid price: ${details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ')}`, details);
  }
  const { input_per_mtok, output_per_mtok, cached_input_per_mtok } = parsed.data;
  return { input_per_mtok, output_per_mtok, cached_input_per_mtok: cached_input_per_mtok ?? input_per_mtok };
}

export function checkModelName(model: string): string {
  const parsed = modelNameSchema.safeParse(model);
  if (!parsed.success) throw badRequest(`invalid model name: ${parsed.error.issues[0]!.message}`, { model });
  return parsed.data;
}

/** A tenant's table at one version: its own prices over the defaults. */
export interface PriceTable {
  version: number;
  prices: Readonly<Record<string, ModelPrice>>;
}

/** The built-in table alone: every tenant's version 0. */
export const DEFAULT_TABLE: PriceTable = { version: 0, prices: DEFAULT_PRICES };

/** The effective table of a tenant whose overrides at `version` are `overrides`. */
export const effectiveTable = (version: number, overrides: Readonly<Record<string, ModelPrice>>): PriceTable => ({
  version,
  prices: { ...DEFAULT_PRICES, ...overrides },
});

/** The effective table in force at `at` (epoch ms) among a tenant's versions (oldest first): the defaults before the first. */
export function tableAt(versions: readonly PriceVersion[] | undefined, at: number): PriceTable {
  let found: PriceVersion | undefined;
  for (const v of versions ?? []) {
    if (v.created_at > at) break;
    found = v;
  }
  return found ? effectiveTable(found.version, found.overrides) : DEFAULT_TABLE;
}

/** What may follow a known name in a longer model name: a date, a size, a tag, a path (`-2024-07-18`, `:8b`, `@001`, `.1`). */
const BOUNDARY = /^[-:@./_]/;

/**
 * The price of `model`: its own entry, else the entry of the longest known
 * name it starts with, at a boundary (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`,
 * `llama3.1:8b` → `llama3.1`; `gpt-4oo` matches nothing). Undefined when unknown.
 */
export function priceOf(table: PriceTable, model: string): { model: string; price: ModelPrice } | undefined {
  const exact = table.prices[model];
  if (exact && Object.hasOwn(table.prices, model)) return { model, price: exact };
  let best: string | undefined;
  for (const known in table.prices) {
    if (known.length >= model.length || !model.startsWith(known) || !BOUNDARY.test(model.slice(known.length))) continue;
    if (best === undefined || known.length > best.length) best = known;
  }
  return best === undefined ? undefined : { model: best, price: table.prices[best]! };
}

/** Token counts of one call; cached tokens are part of the input tokens. */
export interface CallTokens {
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
}

/**
 * USD for a call at `price`: uncached input tokens at the input rate, cached
 * ones at the cached rate, output tokens at the output rate. Cached tokens
 * above the input count (a sender's mistake) are taken as all input cached.
 */
export function costOf(price: ModelPrice, t: CallTokens): number {
  const cached = Math.min(Math.max(t.cached_input_tokens, 0), Math.max(t.input_tokens, 0));
  const uncached = Math.max(t.input_tokens, 0) - cached;
  return (uncached * price.input_per_mtok + cached * price.cached_input_per_mtok + Math.max(t.output_tokens, 0) * price.output_per_mtok) / 1_000_000;
}
