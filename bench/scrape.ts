/**
 * Reading a component's own counters: its /metrics page (Prometheus text),
 * summed over the samples whose labels match. Benchmarks read what the
 * component reports rather than guess from the outside.
 */
interface Sample {
  labels: Record<string, string>;
  value: number;
}

export async function scrape(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (!res.ok) throw new Error(`${baseUrl}/metrics answered ${res.status}`);
  return res.text();
}

/** Every sample of `name` (not of `name_bucket` and the like) on a /metrics page. */
function samplesOf(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const next = line[name.length];
    if (!line.startsWith(name) || (next !== '{' && next !== ' ')) continue;
    const labels: Record<string, string> = {};
    if (next === '{') for (const m of line.slice(name.length, line.lastIndexOf('}')).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    out.push({ labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) });
  }
  return out;
}

/** Sum of `name`'s samples whose labels include every pair of `match`. */
export function sumOf(text: string, name: string, match: Record<string, string> = {}): number {
  return samplesOf(text, name)
    .filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** The largest of `name`'s samples per value of the label `by` (e.g. the worst partition's lag per processor). */
export function maxBy(text: string, name: string, by: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samplesOf(text, name)) {
    const key = s.labels[by];
    if (key !== undefined) out[key] = Math.max(out[key] ?? 0, s.value);
  }
  return out;
}
