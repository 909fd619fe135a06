#!/usr/bin/env node
/**
 * Bundles the `dsc` CLI into `dist/` (what `npm install` runs as `prepare`, and `npm run build`).
 *
 * The TypeScript sources stay the truth: `bin/dsc.js` runs this bundle only while every source it was
 * built from is unchanged (see `bin/bundle-state.js`), and runs the sources through tsx otherwise. The
 * bundle exists because loading tsx and compiling the sources on every start cost more than the command
 * itself (docs/bench.md).
 *
 * Only the project's own code is bundled: every npm package stays an import (`packages: 'external'`),
 * so native modules (better-sqlite3, the serialport bindings) load their `.node` files as always.
 * Code splitting keeps each command's modules lazy, as `cli/main.ts` loads them.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { manifestName, entryName } from '../bin/bundle-state.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const distDefault = resolve(repoRoot, 'dist');

/**
 * A bundled module's `import.meta.url` would name the chunk in `dist/`, not its source file, so a
 * source that finds a fixture relative to itself (`new URL('../fixtures/screens.json', import.meta.url)`)
 * would look in the wrong folder. Each source's own URL is written back in, relative to the output
 * folder, so the package still works when moved as a whole.
 */
function importMetaPlugin(outdir) {
  return {
    name: 'source-import-meta',
    setup(build) {
      build.onLoad({ filter: /\.tsx?$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta')) return undefined;
        const fromOut = relative(outdir, args.path).split('\\').join('/');
        const url = `new URL(${JSON.stringify(fromOut)}, import.meta.url)`;
        const contents = text
          .replaceAll('import.meta.url', `${url}.href`)
          .replaceAll('import.meta.dirname', `__dscDirname(${url})`)
          .replaceAll('import.meta.filename', `__dscFilename(${url})`);
        const helpers = !/import\.meta\.(dirname|filename)/.test(text) ? '' :
          `import { dirname as __dscDirnameOf } from 'node:path';\nimport { fileURLToPath as __dscPath } from 'node:url';\n` +
          `const __dscFilename = (u: URL) => __dscPath(u);\nconst __dscDirname = (u: URL) => __dscDirnameOf(__dscPath(u));\n`;
        return { contents: helpers + contents, loader: args.path.endsWith('x') ? 'tsx' : 'ts' };
      });
    },
  };
}

/**
 * Build the CLI into `outdir` and write its manifest: the source files it was built from, with their
 * sizes and modification times, which `bin/bundle-state.js` checks before every run.
 * @example
 * await buildCli(); // dist/main.js, dist/chunk-*.js, dist/manifest.json
 */
export async function buildCli(outdir = distDefault) {
  const esbuild = await import('esbuild');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: { [entryName.replace(/\.js$/, '')]: resolve(repoRoot, 'cli/main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    jsx: 'automatic',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [importMetaPlugin(outdir)],
  });
  const sources = Object.keys(result.metafile.inputs)
    .map((input) => resolve(repoRoot, input))
    .sort()
    .map((path) => {
      const stat = statSync(path);
      return { path: relative(outdir, path).split('\\').join('/'), size: stat.size, mtimeMs: stat.mtimeMs };
    });
  writeFileSync(resolve(outdir, manifestName), `${JSON.stringify({ format: 'dsc-bundle', version: 1, sources }, null, 1)}\n`);
  return { outdir, sources: sources.length };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let esbuildMissing = false;
  try {
    await import('esbuild');
  } catch {
    esbuildMissing = true;
  }
  if (esbuildMissing) {
    // `npm install --omit=dev` has no esbuild: dsc still works, from the sources through tsx (slower to start).
    process.stderr.write('dsc build: esbuild is not installed (a dev dependency); dsc will run its TypeScript sources through tsx\n');
  } else {
    const at = process.argv.indexOf('--outdir');
    const outdir = at >= 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : distDefault;
    const { sources } = await buildCli(outdir);
    process.stderr.write(`dsc build: ${relative(process.cwd(), outdir) || '.'}/ bundled from ${sources} source files\n`);
  }
}
