/**
 * One conformance run as a user makes it: a socat pty pair, `dsc bridge` (the real CLI) on one end,
 * `dsc conformance` on the other: the real CLI too (`tester: 'process'`), or by default the same command
 * through `main(argv, io)` in this process, which spares a process start per run and still drives the
 * card over the real pty.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runDsc, runDscInProcess, type CliResult } from '../../support/cli.ts';
import { ptyPair } from './socat.ts';
import { startDsc } from './spawn.ts';

export interface ConformanceRun extends CliResult {
  readonly bridgeExit: number | null;
}

/** How `dsc conformance` runs: as its own process (the binary) or in this process through `main(argv, io)`. */
export type Tester = 'process' | 'in-process';

/** `dsc ARGS` either way; the result is the same shape. */
export async function runTester(tester: Tester, args: string[], timeoutMs?: number): Promise<CliResult> {
  return tester === 'process' ? runDsc(args, timeoutMs === undefined ? {} : { timeout: timeoutMs }) : runDscInProcess(args);
}

/**
 * Provision a card with `provisionArgs`, serve it with `dsc bridge --clock virtual [bridgeArgs]`, and
 * run `dsc conformance` against it with the arguments `conformanceArgs` returns (it may write files in the folder).
 */
export async function conformanceRun(
  provisionArgs: string[],
  bridgeArgs: string[] = [],
  conformanceArgs: (dir: string, device: string) => string[] = (_dir, device) => ['--device', device],
  tester: Tester = 'in-process',
): Promise<ConformanceRun> {
  const dir = mkdtempSync(join(tmpdir(), 'dsc-conformance-'));
  const pair = await ptyPair();
  try {
    const device = join(dir, 'card.json');
    const provisioned = await runDscInProcess(['provision', ...provisionArgs, '--out', device]);
    expect(provisioned.status, provisioned.stderr).toBe(0);
    const bridge = startDsc(['bridge', '--port', pair.a, '--device', device, '--clock', 'virtual', ...bridgeArgs]);
    let result: CliResult | undefined;
    try {
      await bridge.waitFor(/answering on/);
      result = await runTester(tester, ['conformance', '--port', pair.b, ...conformanceArgs(dir, device)]);
    } finally {
      const bridgeExit = await bridge.stop();
      if (result !== undefined) return { ...result, bridgeExit };
    }
    throw new Error('unreachable: the try block either set the result or threw');
  } finally {
    await pair.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
