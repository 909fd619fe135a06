/**
 * One conformance run as a user makes it: a socat pty pair, `dsc bridge` (the real CLI) on one end,
 * `dsc conformance` on the other: the real CLI too (`tester: 'process'`), or by default the same command
 * through `main(argv, io)` in this process, which spares a process start per run and still drives the
 * card over the real pty.
 */
import { runDscInProcess, type CliResult } from '../../support/cli.ts';
import { runDscAsync } from './processes.ts';
import { withBridgedCard } from './pty-setup.ts';

export interface ConformanceRun extends CliResult {
  readonly bridgeExit: number | null;
}

/** How `dsc conformance` runs: as its own process (the binary) or in this process through `main(argv, io)`. */
export type Tester = 'process' | 'in-process';

/** `dsc ARGS` either way; the result is the same shape. The process is waited for without blocking this one. */
export async function runTester(tester: Tester, args: string[]): Promise<CliResult> {
  return tester === 'process' ? runDscAsync(args) : runDscInProcess(args);
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
  const { value, bridgeExit } = await withBridgedCard('dsc-conformance-', provisionArgs, ['--clock', 'virtual', ...bridgeArgs], ({ dir, device, port }) =>
    runTester(tester, ['conformance', '--port', port, ...conformanceArgs(dir, device)]),
  );
  return { ...value, bridgeExit };
}
