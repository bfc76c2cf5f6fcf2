/**
 * A record's symbol table as it is built: each string once, in order of first
 * use, and its reference (its place in `symbols`). Batch records of samples
 * and of log lines carry their label names and values this way.
 */
export function symbolInterner(): { symbols: string[]; ref(s: string): number } {
  const symbols: string[] = [];
  const refOf = new Map<string, number>();
  return {
    symbols,
    ref(s) {
      let r = refOf.get(s);
      if (r === undefined) {
        r = symbols.length;
        refOf.set(s, r);
        symbols.push(s);
      }
      return r;
    },
  };
}
