/**
 * How far an extraction can be trusted, 0..1, from four measures:
 *
 *   schema_valid     1 when the result is of the job's schema, else 0
 *   required_filled  share of the schema's required fields (at any depth;
 *                    the top-level properties when it requires none) that
 *                    hold something: not null, not "", not [] or {}
 *   grounded         share of the result's leaf strings and numbers that
 *                    appear in the source text (case, whitespace and Unicode
 *                    forms normalised; numbers as numbers, "1,234.50" is
 *                    1234.5); 0 when the result has no such leaves: nothing
 *                    in it is backed by the page
 *   confidence       the model's own 0..1, or null when it gave none
 *
 *   quality = schema_valid × (0.40 grounded + 0.35 required_filled + 0.25 confidence)
 *
 * Why these weights: validity is a gate, not a term — an answer that is not
 * of the schema is unusable downstream however well grounded, so it scores 0.
 * Grounding weighs most because it is the one measure the model cannot
 * talk up: a value not on the page is most likely made up, which is the
 * failure that hurts. Completeness comes next: a valid answer with its
 * required fields empty says "found nothing". The model's confidence weighs
 * least: small local models state confidence poorly (often a flat 0.9), so
 * it breaks ties rather than decides. Without a confidence the other two
 * share its weight in proportion (0.40 / 0.75 and 0.35 / 0.75).
 */
export interface QualityDetails {
  schema_valid: number;
  required_filled: number;
  grounded: number;
  confidence: number | null;
}

const WEIGHTS = { grounded: 0.4, required_filled: 0.35, confidence: 0.25 };

export function qualityOf(d: QualityDetails): number {
  if (d.schema_valid === 0) return 0;
  const parts: [number, number][] = [
    [WEIGHTS.grounded, d.grounded],
    [WEIGHTS.required_filled, d.required_filled],
  ];
  if (d.confidence !== null) parts.push([WEIGHTS.confidence, d.confidence]);
  const total = parts.reduce((n, [w]) => n + w, 0);
  return round(parts.reduce((n, [w, v]) => n + w * v, 0) / total);
}

/** The four measures of `result` read against `schema` and `sourceText`. */
export function measureQuality(result: unknown, schema: JsonSchema, sourceText: string, schemaValid: boolean, confidence: number | null): QualityDetails {
  return {
    schema_valid: schemaValid ? 1 : 0,
    required_filled: round(requiredFilled(result, schema)),
    grounded: round(grounded(result, sourceText)),
    confidence,
  };
}

export type JsonSchema = Record<string, unknown>;

/** Share of required fields filled, over the whole result; 1 when the schema names no field at all. */
export function requiredFilled(result: unknown, schema: JsonSchema): number {
  const counts = { required: 0, filled: 0 };
  countRequired(result, schema, rootDefs(schema), counts, true);
  return counts.required === 0 ? 1 : counts.filled / counts.required;
}

type Counts = { required: number; filled: number };

function countRequired(value: unknown, schema: JsonSchema, defs: Defs, counts: Counts, top: boolean): void {
  const s = deref(schema, defs);
  if (Array.isArray(value)) {
    const items = s.items;
    if (isSchema(items)) for (const item of value) countRequired(item, items, defs, counts, false);
    return;
  }
  if (!isObject(value)) return;
  const properties = isObject(s.properties) ? (s.properties as Record<string, unknown>) : {};
  let required = Array.isArray(s.required) ? s.required.filter((k): k is string => typeof k === 'string') : [];
  // A schema that requires nothing still says what it wants in its properties: judge the top level by those.
  if (required.length === 0 && top) required = Object.keys(properties);
  for (const key of required) {
    counts.required++;
    if (isFilled(value[key])) counts.filled++;
  }
  for (const [key, sub] of Object.entries(properties)) {
    if (isSchema(sub) && value[key] !== undefined) countRequired(value[key], sub, defs, counts, false);
  }
}

function isFilled(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') return v.trim() !== '';
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** Share of leaf strings and numbers found in the source text; 0 without any. */
export function grounded(result: unknown, sourceText: string): number {
  const leaves: (string | number)[] = [];
  collectLeaves(result, leaves);
  if (leaves.length === 0) return 0;
  const text = normalise(sourceText);
  const numbers = numbersIn(sourceText);
  const found = leaves.filter((leaf) => (typeof leaf === 'number' ? numbers.has(leaf) : text.includes(normalise(leaf)))).length;
  return found / leaves.length;
}

function collectLeaves(v: unknown, out: (string | number)[]): void {
  if (typeof v === 'string') {
    if (v.trim() !== '') out.push(v);
  } else if (typeof v === 'number') {
    if (Number.isFinite(v)) out.push(v);
  } else if (Array.isArray(v)) {
    for (const item of v) collectLeaves(item, out);
  } else if (isObject(v)) {
    for (const item of Object.values(v)) collectLeaves(item, out);
  }
}

/** NFKC (so "ﬁ" is "fi" and a no-break space a space), lower case, whitespace collapsed. */
const normalise = (s: string) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();

/** Every number written in the text, thousands separators dropped: "1,234.50" → 1234.5, "-3" → -3, "45%" → 45. */
function numbersIn(text: string): Set<number> {
  const found = new Set<number>();
  for (const m of text.matchAll(/-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?/g)) {
    const n = Number(m[0].replace(/,/g, ''));
    if (Number.isFinite(n)) {
      found.add(n);
      found.add(Math.abs(n)); // "-" is as often a dash as a sign ("2020-2024")
    }
  }
  return found;
}

type Defs = Record<string, unknown>;

/** `$defs` and `definitions` of the root, for the `#/$defs/x` references of a schema. */
function rootDefs(schema: JsonSchema): Defs {
  return { ...(isObject(schema.definitions) ? schema.definitions : {}), ...(isObject(schema.$defs) ? schema.$defs : {}) };
}

/** A local `$ref` followed (a few hops: a cycle stops), or the schema itself. */
function deref(schema: JsonSchema, defs: Defs): JsonSchema {
  let s = schema;
  for (let hops = 0; hops < 8 && typeof s.$ref === 'string'; hops++) {
    const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(s.$ref)?.[1];
    const next = name === undefined ? undefined : defs[decodeURIComponent(name)];
    if (!isSchema(next)) break;
    s = next;
  }
  return s;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSchema = (v: unknown): v is JsonSchema => isObject(v);
const round = (n: number) => Math.round(n * 1000) / 1000;
