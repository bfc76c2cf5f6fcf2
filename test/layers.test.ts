import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The shape of the house, checked on every import in the tree:
 *
 *   cli/, bench/                    entry points
 *   gateway/, processors/, scheduler/  side by side, never importing each other
 *   assistant/                      the ops assistant: used by the gateway, built on the shared code below
 *   platform/, tenant-config/       what both use: connections, the producer, ops routes; rules, targets, prompts, experiments
 *   schemas/, sql/                  the contracts: topics and Avro, tables and stores
 *   lib/                            building blocks that import nothing from the project
 *
 * An import points down only. Inside processors/, a processor's folder uses
 * the shared runtime/ and itself, never another processor (start.ts lists
 * them all). compose/local/ (the native stack) stands apart: only the entry
 * points and tests start it. Tests may import anything; bench/ may borrow
 * test helpers (the stand-ins it measures against). And no file, test or not,
 * takes part in an import cycle.
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const LAYER: Record<string, number> = {
  cli: 4,
  bench: 4,
  gateway: 3,
  processors: 3,
  scheduler: 3,
  assistant: 2.5,
  platform: 2,
  'tenant-config': 2,
  schemas: 1,
  sql: 1,
  lib: 0,
};

interface Import {
  from: string;
  to: string;
}

function sourceFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (['node_modules', '.git', '.data'].includes(e.name)) return [];
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [path.relative(ROOT, p)] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function importsOf(file: string): Import[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => ({ from: file, to: path.normalize(path.join(path.dirname(file), m[1] ?? m[2]!)) }));
}

const top = (file: string) => file.split(path.sep)[0]!;
const processorOf = (file: string) => (top(file) === 'processors' && file.split(path.sep).length > 2 ? file.split(path.sep)[1] : undefined);
const isTest = (file: string) => file.endsWith('.test.ts') || top(file) === 'test';

/** Why this import breaks the layering, or undefined when it does not. */
function layerViolation({ from, to }: Import): string | undefined {
  if (isTest(from)) return undefined;
  const [a, b] = [top(from), top(to)];
  if (b === 'test') return a === 'bench' ? undefined : 'only tests and benchmarks use test helpers';
  if (a === 'compose' || b === 'compose')
    return a === 'compose' && b === 'compose'
      ? undefined
      : a === 'cli' || a === 'bench'
        ? undefined
        : 'the native stack (compose/local) is started by cli/ and bench/ only';
  if (a === b) {
    const [pa, pb] = [processorOf(from), processorOf(to)];
    if (pa === 'runtime' && pb && pb !== 'runtime') return 'the runtime is shared by every processor and imports none of them';
    if (pa && pb && pa !== pb && pb !== 'runtime') return `processor ${pa} imports processor ${pb}: share through processors/runtime/`;
    return undefined;
  }
  if (!(a in LAYER) || !(b in LAYER)) return `${a}/ or ${b}/ has no place in the layers`;
  if (LAYER[b]! < LAYER[a]!) return undefined;
  if (LAYER[b] === LAYER[a]) return `${a}/ and ${b}/ sit side by side and never import each other`;
  return `${a}/ is below ${b}/: imports point down only`;
}

/** Every cycle found by a depth-first walk, each as the files around it. */
function cycles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe('layers', () => {
  const files = sourceFiles();
  const imports = files.flatMap(importsOf);

  it('reads the tree (a check that finds nothing to check proves nothing)', () => {
    expect(files.length).toBeGreaterThan(150);
    expect(imports.filter((i) => top(i.from) === 'gateway').length).toBeGreaterThan(50);
  });

  it('every import points down: gateway and processors never import each other, schemas and sql import neither', () => {
    const broken = imports.map((i) => ({ ...i, why: layerViolation(i) })).filter((i) => i.why);
    expect(broken.map((i) => `${i.from} → ${i.to}: ${i.why}`)).toEqual([]);
  });

  it('no import cycles', () => {
    const edges = new Map<string, string[]>();
    for (const { from, to } of imports) edges.set(from, [...(edges.get(from) ?? []), to]);
    expect(cycles(edges).map((c) => c.join(' → '))).toEqual([]);
  });

  it('the check itself refuses what the layers forbid', () => {
    const v = (from: string, to: string) => layerViolation({ from, to });
    expect(v('gateway/app.ts', 'processors/start.ts')).toMatch(/side by side/);
    expect(v('processors/detect/processor.ts', 'gateway/records.ts')).toMatch(/side by side/);
    expect(v('sql/read-only.ts', 'platform/services.ts')).toMatch(/imports point down/);
    expect(v('lib/errors.ts', 'schemas/topics.ts')).toMatch(/imports point down/);
    expect(v('processors/detect/processor.ts', 'processors/rollup/processor.ts')).toMatch(/share through processors\/runtime/);
    expect(v('processors/runtime/windows.ts', 'processors/rollup/config.ts')).toMatch(/imports none of them/);
    expect(v('gateway/app.ts', 'test/helpers/pipeline.ts')).toMatch(/only tests/);
    expect(v('processors/detect/processor.ts', 'processors/runtime/windows.ts')).toBeUndefined();
    expect(v('gateway/app.ts', 'lib/errors.ts')).toBeUndefined();
    expect(
      cycles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', ['a.ts']],
        ]),
      ),
    ).toEqual([['a.ts', 'b.ts', 'a.ts']]);
  });
});
