/**
 * A Prometheus text page with the `tenant` label summed away: each series
 * that differed only by tenant becomes one, where the first of them was, with
 * the sum of their values. Only counters and histograms carry a tenant label
 * (gateway/telemetry.ts), and both sum. GET /metrics needs no key, so by
 * default it names no tenant and shows no per-tenant count
 * (AUTOPILOT_METRICS_TENANT_LABELS=true keeps them).
 */
export function withoutTenantLabels(page: string): string {
  const lines: string[] = [];
  const firstAt = new Map<string, number>(); // series → index in `lines`
  const sums: number[] = [];
  for (const line of page.split('\n')) {
    const series = line.startsWith('#') ? undefined : seriesWithoutTenant(line);
    if (series === undefined) {
      lines.push(line);
      continue;
    }
    const space = series.lastIndexOf(' ');
    const key = series.slice(0, space);
    const value = Number(series.slice(space + 1));
    const at = firstAt.get(key);
    if (at === undefined) {
      firstAt.set(key, lines.length);
      sums[lines.length] = value;
      lines.push(key);
    } else sums[at]! += value;
  }
  return lines.map((line, i) => (sums[i] === undefined ? line : `${line} ${sums[i]}`)).join('\n');
}

// A label pair starts after `{` or `,`; inside a value every `"` is escaped, so `tenant="` there cannot match.
const TENANT_PAIR = /([{,])tenant="(?:[^"\\]|\\.)*"/;

/** A sample line without its tenant pair, or undefined when it has none. */
function seriesWithoutTenant(line: string): string | undefined {
  const pair = TENANT_PAIR.exec(line);
  if (!pair) return undefined;
  let before = line.slice(0, pair.index + (pair[1] === '{' ? 1 : 0));
  let after = line.slice(pair.index + pair[0].length);
  if (pair[1] === '{' && after.startsWith(',')) after = after.slice(1);
  if (before.endsWith('{') && after.startsWith('}')) {
    before = before.slice(0, -1);
    after = after.slice(1);
  }
  return before + after;
}
