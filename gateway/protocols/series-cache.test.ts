import { describe, expect, it } from 'vitest';
import { SeriesCache, type SeriesId } from './series-cache.ts';

const bytes = (text: string) => Buffer.from(`xx${text}yy`); // the key sits inside a larger buffer, as in a request
const view = (b: Buffer) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const id = (name: string): SeriesId => ({ metric_name: name, labels: {} });

describe('SeriesCache', () => {
  it('finds a series by the exact bytes of its labels, and nothing for other bytes', () => {
    const cache = new SeriesCache(10);
    const a = bytes('job=api,instance=a');
    const series = id('up');
    cache.add(a, view(a), 2, a.length - 2, series);
    const again = bytes('job=api,instance=a');
    expect(cache.find(again, view(again), 2, again.length - 2)).toBe(series);
    for (const other of ['job=api,instance=b', 'job=api,instance=', 'job=api,instance=aa']) {
      const b = bytes(other);
      expect(cache.find(b, view(b), 2, b.length - 2)).toBeUndefined();
    }
  });

  it('copies the bytes it keeps: a buffer reused for the next request cannot change a kept series', () => {
    // The remote-write decoder reuses one buffer for every request's bytes (snappy-block.ts, transient).
    const cache = new SeriesCache(10);
    const buf = bytes('job=api');
    cache.add(buf, view(buf), 2, buf.length - 2, id('up'));
    buf.write('job=web', 2);
    expect(cache.find(buf, view(buf), 2, buf.length - 2)).toBeUndefined();
  });

  it('keeps two generations: a series unseen for two generations is dropped, one seen again stays', () => {
    const cache = new SeriesCache(3);
    const add = (k: string) => {
      const b = bytes(k);
      const s = id(k);
      cache.add(b, view(b), 2, b.length - 2, s);
      return s;
    };
    const find = (k: string) => {
      const b = bytes(k);
      return cache.find(b, view(b), 2, b.length - 2);
    };
    const first = add('s0');
    add('s1');
    add('s2');
    add('s3'); // the first generation (s0–s2) becomes the previous one
    expect(find('s0')).toBe(first); // found there, and kept in the current one
    add('s4');
    add('s5'); // current is full again: s0, s3, s4 become the previous one, s1 and s2 are dropped
    expect(find('s1')).toBeUndefined();
    expect(find('s0')).toBe(first);
  });
});
