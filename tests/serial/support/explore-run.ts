/**
 * `dsc conformance --explore` as a user runs it: a socat pty pair, `dsc bridge` (the real CLI, any
 * --fault) on one end and the explorer on the other (in this process through `main(argv, io)` unless
 * `tester` is 'process'), run once or more against the same card.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runDscInProcess, type CliResult } from '../../support/cli.ts';
import { runTester, type Tester } from './conformance-run.ts';
import { ptyPair } from './socat.ts';
import { startDsc } from './spawn.ts';

/** A failure guard for one explore run on a loaded 2-core machine (shrinking runs many sequences). */
export const exploreRunTimeoutMs = 240_000;

/**
 * Provision a card, serve it with `dsc bridge --clock CLOCK [bridgeArgs]`, and run `dsc conformance
 * --port … --device card.json` once per entry of `runs` (each the further arguments, given the results so far).
 */
export async function exploreRuns(
  provisionArgs: string[],
  bridgeArgs: string[],
  runs: ((previous: CliResult[]) => string[])[],
  clock: 'virtual' | 'real' = 'virtual',
  tester: Tester = 'in-process',
): Promise<{ results: CliResult[]; port: string; device: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dsc-explore-'));
  const pair = await ptyPair();
  try {
    const device = join(dir, 'card.json');
    const provisioned = await runDscInProcess(['provision', ...provisionArgs, '--out', device]);
    expect(provisioned.status, provisioned.stderr).toBe(0);
    const bridge = startDsc(['bridge', '--port', pair.a, '--device', device, '--clock', clock, ...bridgeArgs]);
    const results: CliResult[] = [];
    try {
      await bridge.waitFor(/answering on/);
      for (const args of runs) results.push(await runTester(tester, ['conformance', '--port', pair.b, '--device', device, ...args(results)], exploreRunTimeoutMs));
    } finally {
      await bridge.stop();
    }
    return { results, port: pair.b, device };
  } finally {
    await pair.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
