/**
 * A Content-Type header split into its media type (lower-cased) and
 * parameters (names lower-cased, values unquoted and kept as sent: `proto=`
 * names a protobuf message, which is case-sensitive).
 */
export interface MediaType {
  type: string;
  params: Record<string, string>;
}

/** Undefined for a missing or blank header. */
export function parseMediaType(header: string | undefined): MediaType | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const [type = '', ...rest] = header.split(';');
  const params: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name !== '') params[name] = value;
  }
  return { type: type.trim().toLowerCase(), params };
}

/** A Content-Encoding header lower-cased, '' when missing; `identity` is the same as none. */
export function contentEncoding(header: string | undefined): string {
  const value = (header ?? '').trim().toLowerCase();
  return value === 'identity' ? '' : value;
}
