/**
 * Whether `dist/` (built by `scripts/build.js`) may run in place of the TypeScript sources: only when
 * every source it was built from still has the size and modification time recorded at build time. A
 * source edited, deleted, or checked out again (git sets a new modification time) makes the bundle stale,
 * and `bin/dsc.js` runs the sources through tsx instead: slower to start, never out of date.
 * Plain JavaScript, so it runs before any TypeScript loader exists.
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const entryName = 'main.js';
export const manifestName = 'manifest.json';

/**
 * The bundle's entry file in `outdir` when it is there and up to date with its sources, else undefined.
 * @example
 * const entry = freshBundleEntry(new URL('../dist', import.meta.url).pathname);
 */
export function freshBundleEntry(outdir) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(outdir, manifestName), 'utf8'));
  } catch {
    return undefined;
  }
  if (manifest?.format !== 'dsc-bundle' || manifest.version !== 1 || !Array.isArray(manifest.sources)) return undefined;
  for (const source of manifest.sources) {
    try {
      const stat = statSync(resolve(outdir, source.path));
      if (stat.size !== source.size || stat.mtimeMs !== source.mtimeMs) return undefined;
    } catch {
      return undefined;
    }
  }
  return join(outdir, entryName);
}
