// The house rules that hold for the whole tree, checked on every run so they stay true: no source file over
// 400 lines, imports only downward between the top-level folders (nothing below cli/ imports cli/; the
// firmware imports nothing of the shells and no node:*), and no import circle between files. The import graph
// is read with TypeScript's own pre-parser, so comments and strings are not mistaken for imports; type-only
// imports count too (a circle of types is still two files that cannot be read one after the other).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
/** The folders that hold the product's sources (tests, fixtures and docs are not sources). */
const sourceFolders = ['firmware', 'platform', 'emulator', 'host', 'conformance', 'service', 'board', 'cli', 'bench', 'scripts', 'bin'] as const;
type Folder = (typeof sourceFolders)[number];
/** STYLE.md: small files with one job, none over this many lines. */
const sourceLinesMax = 400;
const sourceExtensions = /\.(ts|tsx|js|mjs|c|h|py|sh)$/;
const scriptExtensions = /\.(ts|tsx|js|mjs)$/;

/**
 * Which top-level folders each folder may import from (README "Layout"): firmware < platform < host <
 * emulator (the demo enrols its card in a host; a host never drives an emulated card) < conformance, service,
 * board < cli < bench, bin, scripts. A folder not listed for another may not import it.
 */
const mayImport: Readonly<Record<Folder, readonly Folder[]>> = {
  firmware: [],
  platform: ['firmware'],
  host: ['firmware', 'platform'],
  emulator: ['firmware', 'platform', 'host'],
  conformance: ['firmware', 'platform', 'host', 'emulator'],
  service: ['firmware', 'platform', 'host'],
  board: ['firmware', 'platform', 'emulator'],
  cli: ['firmware', 'platform', 'host', 'emulator', 'conformance', 'service', 'board'],
  // The bench measures everything, and borrows test support (a flooding peer, a throwaway PostgreSQL).
  bench: ['firmware', 'platform', 'host', 'emulator', 'conformance', 'service', 'board', 'cli'],
  bin: ['cli'],
  scripts: ['bin', 'cli'],
};

function filesUnder(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(root, path));
    }
  };
  if (existsSync(join(root, folder))) walk(join(root, folder));
  return out.sort();
}

const sources = sourceFolders.flatMap(filesUnder).filter((file) => sourceExtensions.test(file));
const scripts = sources.filter((file) => scriptExtensions.test(file));

interface Edge {
  readonly from: string;
  readonly specifier: string;
  /** The file it names, relative to the root; undefined for a package. */
  readonly to: string | undefined;
}

function importsOf(file: string): Edge[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  return importedFiles.map(({ fileName: specifier }) => {
    if (!specifier.startsWith('.')) return { from: file, specifier, to: undefined };
    return { from: file, specifier, to: relative(root, resolve(root, dirname(file), specifier)) };
  });
}

const edges = scripts.flatMap(importsOf);
const folderOf = (file: string): string => file.split('/')[0]!;

/** The imports that go up or sideways, as `from imports to`. */
function upward(list: readonly Edge[]): string[] {
  return list
    .filter(({ from, to }) => {
      if (to === undefined) return false;
      const source = folderOf(from) as Folder;
      const target = folderOf(to);
      return target !== source && !(mayImport[source] as readonly string[]).includes(target) && !(source === 'bench' && /^tests\/(.+\/)?support\//.test(to));
    })
    .map(({ from, to }) => `${from} imports ${to}`);
}

/** The strongly connected groups of two or more files (Tarjan), each a circle of imports. */
function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) found.push(group.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the house rules', () => {
  it('reads the tree: every folder has sources and every relative import names a file that exists', () => {
    for (const folder of sourceFolders) expect(sources.some((file) => folderOf(file) === folder), folder).toBe(true);
    expect(edges.length).toBeGreaterThan(500);
    const dangling = edges.filter((edge) => edge.to !== undefined && !existsSync(join(root, edge.to)));
    expect(dangling.map((edge) => `${edge.from} imports ${edge.specifier}`)).toEqual([]);
  });

  it(`has no source file over ${sourceLinesMax} lines`, () => {
    const long = sources
      .map((file) => ({ file, lines: readFileSync(join(root, file), 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > sourceLinesMax);
    expect(long.map(({ file, lines }) => `${file}: ${lines} lines`)).toEqual([]);
  });

  it('imports only downward: nothing below cli/ imports cli/, the firmware nothing of the shells', () => {
    expect(upward(edges)).toEqual([]);
    const belowCli = sourceFolders.filter((folder) => !['cli', 'bench', 'bin', 'scripts'].includes(folder));
    expect(belowCli.filter((folder) => (mayImport[folder] as readonly string[]).includes('cli'))).toEqual([]);
  });

  it('keeps the firmware pure: no node:* (and no other built-in) module', () => {
    const builtins = new Set(['fs', 'path', 'os', 'crypto', 'child_process', 'net', 'tty', 'timers', 'worker_threads', 'process', 'util']);
    const impure = edges.filter(({ from, to, specifier }) => folderOf(from) === 'firmware' && to === undefined && (specifier.startsWith('node:') || builtins.has(specifier)));
    expect(impure.map(({ from, specifier }) => `${from} imports ${specifier}`)).toEqual([]);
  });

  it('has no import circle between files', () => {
    const graph = new Map<string, string[]>(scripts.map((file) => [file, []]));
    for (const { from, to } of edges) if (to !== undefined && graph.has(to)) graph.get(from)!.push(to);
    expect(circles(graph).map((group) => group.join(' <-> '))).toEqual([]);
  });

  it('finds a circle and an upward import when there is one (the checks can fail)', () => {
    expect(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
    expect(circles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
    const [edge] = ts.preProcessFile("// import x from '../cli/io.ts'\nimport { y } from '../cli/main.ts';", true, true).importedFiles;
    expect(edge?.fileName).toBe('../cli/main.ts');
    const made = (from: string, to: string): Edge => ({ from, specifier: to, to });
    expect(upward([made('emulator/x.ts', 'cli/io.ts'), made('host/y.ts', 'emulator/card.ts'), made('cli/z.ts', 'host/index.ts'), made('firmware/a.ts', 'firmware/b.ts')])).toEqual([
      'emulator/x.ts imports cli/io.ts',
      'host/y.ts imports emulator/card.ts',
    ]);
  });
});
