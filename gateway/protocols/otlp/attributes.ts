import type { AnyValueMsg, KeyValueMsg, ResourceMsg, ScopeMsg } from './messages.ts';

/**
 * OTLP attributes as Autopilot keeps them: string maps (labels, ClickHouse
 * Map(String, String) columns), the way the OpenTelemetry Collector's
 * ClickHouse and Prometheus exporters flatten them. A string is itself;
 * numbers and booleans their JSON text; bytes base64; arrays and key-value
 * lists their JSON (with the same rules inside).
 */
export function anyValueText(v: AnyValueMsg | null | undefined): string {
  if (!v?.value) return '';
  switch (v.value) {
    case 'string_value':
      return v.string_value;
    case 'bool_value':
      return String(v.bool_value);
    case 'int_value':
      return String(v.int_value);
    case 'double_value':
      return String(v.double_value);
    case 'bytes_value':
      return Buffer.from(v.bytes_value).toString('base64');
    default:
      return JSON.stringify(anyValueJson(v));
  }
}

function anyValueJson(v: AnyValueMsg | null | undefined): unknown {
  if (!v?.value) return null;
  switch (v.value) {
    case 'array_value':
      return (v.array_value?.values ?? []).map(anyValueJson);
    case 'kvlist_value': {
      const out: Record<string, unknown> = {};
      for (const kv of v.kvlist_value?.values ?? []) Object.defineProperty(out, kv.key, { value: anyValueJson(kv.value), enumerable: true });
      return out;
    }
    case 'string_value':
      return v.string_value;
    case 'bool_value':
      return v.bool_value;
    case 'int_value':
      return v.int_value;
    case 'double_value':
      return v.double_value;
    case 'bytes_value':
      return Buffer.from(v.bytes_value).toString('base64');
  }
}

/** Attributes as a string map; a key given twice keeps its last value. */
export function attributeMap(list: readonly KeyValueMsg[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  // defineProperty: a key named __proto__ stays a key.
  for (const kv of list ?? []) Object.defineProperty(out, kv.key, { value: anyValueText(kv.value), enumerable: true, writable: true, configurable: true });
  return out;
}

/** One attribute's text, or undefined when the list lacks it. */
export function attribute(list: readonly KeyValueMsg[] | null | undefined, key: string): string | undefined {
  let found: string | undefined;
  for (const kv of list ?? []) if (kv.key === key) found = anyValueText(kv.value);
  return found;
}

/** The service a resource names (`service.name`), or what the OpenTelemetry SDKs default to without one. */
export function serviceOf(resource: ResourceMsg | null | undefined): string {
  return attribute(resource?.attributes, 'service.name') || 'unknown_service';
}

/** A scope's name and version, '' for none. */
export const scopeOf = (scope: ScopeMsg | null | undefined) => ({ name: scope?.name ?? '', version: scope?.version ?? '' });

/**
 * A point's labels in one pass, sorted by name as series labels are
 * (lib/labels.ts): its attributes, then `common` (resource and scope labels,
 * which win over an attribute of the same name), then `extra` (`le`,
 * `quantile`). Built per data point, so without spreads or a second sort.
 */
export function labelsOf(
  attributes: readonly KeyValueMsg[] | null | undefined,
  common: Record<string, string>,
  extra?: readonly [string, string],
): Record<string, string> {
  const pairs: [string, string][] = [];
  for (const kv of attributes ?? []) if (!Object.hasOwn(common, kv.key)) pairs.push([kv.key, anyValueText(kv.value)]);
  for (const name in common) pairs.push([name, common[name]!]);
  if (extra) pairs.push([extra[0], extra[1]]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); // stable: of one name given twice, the later wins below
  const out: Record<string, string> = {};
  for (const [name, value] of pairs) {
    if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    else out[name] = value;
  }
  return out;
}
