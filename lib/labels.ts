/**
 * Label maps in one canonical order, sorted by name: the series key (the
 * Kafka key, the rollup's series id) and ClickHouse's Map compare them in
 * order, so the same labels always make the same series.
 */
export function sortKeys(map: Record<string, string>): Record<string, string> {
  // fromEntries defines own properties: a key named __proto__ stays a key, where `out[k] = v` would set the prototype and lose it.
  return Object.fromEntries(
    Object.keys(map)
      .sort()
      .map((k) => [k, map[k]!]),
  );
}
