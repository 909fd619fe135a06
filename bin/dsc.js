#!/usr/bin/env node
// The `dsc` command. Loads the TypeScript CLI through tsx's loader so that
// `npm install` is the only setup step (no build by hand).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
