/**
 * Label maps in one canonical order, sorted by name: the series key (the
 * Kafka key, the rollup's series id) and ClickHouse's Map compare them in
 * order, so the same labels always make the same series.
 */
export function sortKeys(map: Record<string, string>): Record<string, string> {
  return sortedCopy(map, (v) => v);
}

/**
 * `map` with its keys sorted and each value passed through `value`. It runs
 * per point on the JSON ingest path: small maps (the usual label set) are
 * sorted by insertion, without Array.sort's comparator calls, and copied by
 * assignment, except a key named __proto__, which is defined (an assignment
 * would set the prototype and lose it).
 */
export function sortedCopy<T, U>(map: Record<string, T>, value: (v: T) => U): Record<string, U> {
  const names = Object.keys(map);
  if (names.length > 16) names.sort();
  else {
    for (let i = 1; i < names.length; i++) {
      const name = names[i]!;
      let j = i - 1;
      for (; j >= 0 && names[j]! > name; j--) names[j + 1] = names[j]!;
      names[j + 1] = name;
    }
  }
  const out: Record<string, U> = {};
  for (const name of names) {
    if (name === '__proto__') Object.defineProperty(out, name, { value: value(map[name]!), enumerable: true, writable: true, configurable: true });
    else out[name] = value(map[name]!);
  }
  return out;
}

/** Two label maps with the same names in the same order and the same values (the same object, at once). */
export function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || a[ka[i]!] !== b[kb[i]!]) return false;
  return true;
}
