#!/usr/bin/env node
// The `dsc` command. Runs the bundle in dist/ (built at `npm install` by the `prepare` script) when it
// is up to date with the TypeScript sources, and the sources themselves through tsx otherwise, so the
// sources are always what runs. DSC_FROM_SOURCES=1 skips the bundle (the tests set it).
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freshBundleEntry } from './bundle-state.js';
import { watchLauncher } from './launcher-watch.js';

watchLauncher();

const bundle = process.env.DSC_FROM_SOURCES === '1' ? undefined : freshBundleEntry(fileURLToPath(new URL('../dist', import.meta.url)));
let main;
if (bundle !== undefined) {
  ({ main } = await import(pathToFileURL(bundle).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
