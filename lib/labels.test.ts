import { describe, expect, it } from 'vitest';
import { sortedCopy, sortKeys } from './labels.ts';

/** What sortKeys did before small maps were sorted by insertion: Array.sort, then Object.fromEntries. */
const reference = (map: Record<string, string>) =>
  Object.fromEntries(
    Object.keys(map)
      .sort()
      .map((k) => [k, map[k]!]),
  );

describe('sortKeys', () => {
  it('orders keys as Array.sort does, for small and large maps, with non-ASCII, integer-like and __proto__ keys', () => {
    const names = ['zone', 'a', 'Z', '_x', 'é', '🚀', '10', '9', 'service', '__proto__', 'constructor', 'job', 'b b', ''];
    let seed = 3;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let size = 0; size <= 40; size++) {
      const entries = Array.from({ length: size }, (_, i) => [`${names[Math.floor(next() * names.length)]}${i % 3 ? i : ''}`, `v${i}`]);
      const map = Object.fromEntries(entries) as Record<string, string>;
      const sorted = sortKeys(map);
      expect(Object.keys(sorted)).toEqual(Object.keys(reference(map)));
      expect(sorted).toEqual(reference(map));
      expect(Object.getPrototypeOf(sorted)).toBe(Object.prototype);
    }
  });

  it('passes each value through the given function when copying', () => {
    expect(Object.entries(sortedCopy({ b: 2, a: true, c: 'x' }, String))).toEqual([
      ['a', 'true'],
      ['b', '2'],
      ['c', 'x'],
    ]);
  });
});
