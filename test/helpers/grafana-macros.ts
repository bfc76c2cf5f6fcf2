/**
 * What Grafana does to a ClickHouse panel's rawSql before ClickHouse sees it,
 * so a test can run the dashboards' SQL as Grafana would. Two steps, in the
 * order Grafana runs them:
 *
 * 1. In the browser, template variables: `getTemplateSrv().replace(rawSql,
 *    scopedVars, format)` with the plugin's own `format` (an array becomes
 *    'a','b'; a single value is inserted as it is, unquoted). Sources:
 *    grafana/clickhouse-datasource src/data/CHDatasource.ts (applyTemplateVariables,
 *    format); grafana/grafana public/app/features/variables/utils.ts
 *    (variableRegex) and public/app/features/templating/formatRegistry.ts
 *    (singlequote, sqlstring, csv, raw, …). Built-ins from the request's
 *    scopedVars: $__interval ("1m"), $__interval_ms, $__from, $__to (ms).
 * 2. In the plugin backend, macros: grafana/clickhouse-datasource
 *    pkg/macros/macros.go, matched and argument-parsed as grafana-plugin-sdk-go
 *    data/sqlutil/macros.go does (`\$__name\b`, arguments only when "(" follows
 *    the name at once, split on top-level commas, trimmed; every occurrence of
 *    the same text replaced).
 */

export type VariableValue = string | string[];

export interface GrafanaRequest {
  /** Time picker range, epoch ms. */
  from: number;
  to: number;
  /** Grafana's computed interval for the panel, ms. */
  intervalMs: number;
  /** Template variables by name, as selected ("All" = every option's value, an array). */
  variables: Record<string, VariableValue>;
}

// grafana/grafana public/app/features/variables/utils.ts
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g;

/** Step 1: template variables, as templateSrv.replace with the ClickHouse plugin's format function. */
export function interpolateVariables(sql: string, req: GrafanaRequest): string {
  const builtins: Record<string, VariableValue> = {
    __interval: secondsToHms(req.intervalMs / 1000),
    __interval_ms: String(req.intervalMs),
    __from: String(req.from),
    __to: String(req.to),
  };
  return sql.replace(VARIABLE, (match, var1?: string, var2?: string, fmt2?: string, var3?: string, _field?: string, fmt3?: string) => {
    const name = (var1 ?? var2 ?? var3)!;
    const value = name in req.variables ? req.variables[name]! : builtins[name];
    if (value === undefined) return match; // not a variable (e.g. $__timeFilter): left for the backend
    const format = fmt2 ?? fmt3;
    return format ? formatAs(format, value) : clickhouseDefaultFormat(value);
  });
}

/** The plugin's `format`: multi-value variables become a quoted list, single values go in raw. */
function clickhouseDefaultFormat(value: VariableValue): string {
  return Array.isArray(value) ? `'${value.join("','")}'` : value;
}

// grafana/grafana public/app/features/templating/formatRegistry.ts (the formats SQL panels use)
function formatAs(format: string, value: VariableValue): string {
  const each = (f: (v: string) => string) => (Array.isArray(value) ? value.map(f).join(',') : f(value));
  switch (format) {
    case 'raw':
      return Array.isArray(value) ? value.join(',') : value;
    case 'csv':
      return Array.isArray(value) ? value.join(',') : value;
    case 'singlequote':
      return each((v) => `'${v.replace(/'/g, "\\'")}'`);
    case 'doublequote':
      return each((v) => `"${v.replace(/"/g, '\\"')}"`);
    case 'sqlstring':
      return each((v) => `'${v.replace(/'/g, "''")}'`);
    case 'pipe':
      return Array.isArray(value) ? value.join('|') : value;
    default:
      throw new Error(`variable format ${format} is not simulated here`);
  }
}

/** Grafana's rangeutil.secondsToHms: the largest whole unit, as $__interval shows it. */
export function secondsToHms(seconds: number): string {
  const units: [number, string][] = [
    [31536000, 'y'],
    [604800, 'w'],
    [86400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  for (const [size, unit] of units) {
    const n = Math.floor(seconds / size);
    if (n > 0) return `${n}${unit}`;
  }
  const ms = Math.floor(seconds * 1000);
  return ms > 0 ? `${ms}ms` : 'less than a millisecond';
}

type Macro = (args: string[], req: GrafanaRequest) => string;

const seconds = (ms: number) => Math.floor(ms / 1000);
const dateTime = (ms: number) => `toDateTime(${seconds(ms)})`;
const dateTime64 = (ms: number) => `fromUnixTimestamp64Milli(${Math.trunc(ms)})`;
const date = (ms: number) => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;
const intervalSeconds = (req: GrafanaRequest) => Math.max(Math.trunc(req.intervalMs / 1000), 1);

function oneArg(name: string, args: string[]): string {
  if (args.length !== 1) throw new Error(`$__${name}: unexpected number of arguments: expected 1 argument, received ${args.length}`);
  return args[0]!;
}

// grafana/clickhouse-datasource pkg/macros/macros.go, `Macros`
const MACROS: Record<string, Macro> = {
  fromTime: (_, r) => dateTime(r.from),
  toTime: (_, r) => dateTime(r.to),
  fromTime_ms: (_, r) => dateTime64(r.from),
  toTime_ms: (_, r) => dateTime64(r.to),
  timeFilter: (a, r) => {
    const c = oneArg('timeFilter', a);
    return `${c} >= ${dateTime(r.from)} AND ${c} <= ${dateTime(r.to)}`;
  },
  timeFilter_ms: (a, r) => {
    const c = oneArg('timeFilter_ms', a);
    return `${c} >= ${dateTime64(r.from)} AND ${c} <= ${dateTime64(r.to)}`;
  },
  dateFilter: (a, r) => {
    const c = oneArg('dateFilter', a);
    return `${c} >= ${date(r.from)} AND ${c} <= ${date(r.to)}`;
  },
  timeInterval: (a, r) => `toStartOfInterval(toDateTime(${oneArg('timeInterval', a)}), INTERVAL ${intervalSeconds(r)} second)`,
  timeInterval_ms: (a, r) =>
    `toStartOfInterval(toDateTime64(${oneArg('timeInterval_ms', a)}, 3), INTERVAL ${Math.max(Math.trunc(r.intervalMs), 1)} millisecond)`,
  interval_s: (_, r) => String(intervalSeconds(r)),
};

/**
 * sqlutil's parseArgs: a bracketed list right after the name, or no
 * arguments. Returns the arguments and the length of the bracketed text.
 */
function parseArgs(rest: string): { args: string[]; length: number } {
  if (!rest.startsWith('(')) return { args: [], length: 0 };
  const args: string[] = [];
  let depth = 0;
  let arg = '';
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i]!;
    if (ch === '(') {
      depth++;
      if (depth === 1) continue;
    } else if (ch === ')') {
      depth--;
      if (depth === 0) {
        args.push(arg.trim());
        return { args, length: i + 1 };
      }
    } else if (ch === ',' && depth === 1) {
      args.push(arg.trim());
      arg = '';
      continue;
    }
    arg += ch;
  }
  throw new Error('failed to parse macro arguments (missing close bracket?)');
}

/**
 * Step 2: the plugin backend's macros, longest name first (sqlutil.Interpolate:
 * `$__fromTime_ms` before `$__fromTime`, whose text it contains), each match
 * replaced everywhere (strings.ReplaceAll). Unknown `$__names` stay as they are.
 */
export function expandMacros(sql: string, req: GrafanaRequest): string {
  let out = sql;
  const longestFirst = Object.entries(MACROS).sort(([a], [b]) => b.length - a.length);
  for (const [name, macro] of longestFirst) {
    const pattern = new RegExp(`\\$__${name}\\b`, 'g');
    const found: { full: string; args: string[] }[] = [];
    for (const m of out.matchAll(pattern)) {
      const end = m.index + m[0].length;
      const { args, length } = parseArgs(out.slice(end));
      found.push({ full: out.slice(m.index, end + length), args });
    }
    for (const f of found) out = out.split(f.full).join(macro(f.args, req));
  }
  return out;
}

/** Both steps, in Grafana's order: what the ClickHouse server receives for this panel query. */
export function expandGrafanaSql(sql: string, req: GrafanaRequest): string {
  return expandMacros(interpolateVariables(sql, req), req);
}
