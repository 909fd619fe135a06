#!/usr/bin/env node
// Runs a TypeScript entry point through tsx's loader, so `npm install` is the only setup:
// no build step, and the sources are what runs.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: run-ts.js ENTRY.ts [args…]\n');
  process.exit(2);
}
register();
process.argv = [process.argv[0], resolve(entry), ...rest];
await import(pathToFileURL(resolve(entry)).href);
