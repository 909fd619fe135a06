/**
 * `dsc conformance --explore` run against a card, two ways:
 * - `exploreRuns`: as a user runs it: a socat pty pair, `dsc bridge` (the real CLI, any --fault) on one
 *   end and the explorer on the other (in this process through `main(argv, io)` unless `tester` is
 *   'process'), run once or more against the same card.
 * - `exploreInMemory`: the explorer's own logic (search, shrinking, the report and its replay command,
 *   cli/conformance-explore.ts) against the card over an in-process cable (./card-in-memory.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'vitest';
import { exploreOptions, runExplore } from '../../../cli/conformance-explore.ts';
import { parseOptions } from '../../../cli/io.ts';
import { targetFromDeviceFile } from '../../../conformance/target.ts';
import type { PanelLink } from '../../../emulator/serial/panel-link.ts';
import { capture, runDscInProcess, type CliResult } from '../../support/cli.ts';
import { cardInMemory } from './card-in-memory.ts';
import { runTester, type Tester } from './conformance-run.ts';
import { withBridgedCard } from './pty-setup.ts';

/** A failure guard for one explore run on a loaded 2-core machine (shrinking runs many sequences). */
export const exploreRunTimeoutMs = 240_000;

/** Each run's further arguments, given the results so far. */
export type ExploreArgs = ((previous: CliResult[]) => string[])[];

/**
 * Provision a card, serve it with `dsc bridge --clock CLOCK [bridgeArgs]`, and run `dsc conformance
 * --port … --device card.json` once per entry of `runs`.
 */
export async function exploreRuns(
  provisionArgs: string[],
  bridgeArgs: string[],
  runs: ExploreArgs,
  clock: 'virtual' | 'real' = 'virtual',
  tester: Tester = 'in-process',
): Promise<{ results: CliResult[]; port: string; device: string }> {
  const { value } = await withBridgedCard('dsc-explore-', provisionArgs, ['--clock', clock, ...bridgeArgs], async ({ device, port }) => {
    const results: CliResult[] = [];
    for (const args of runs) results.push(await runTester(tester, ['conformance', '--port', port, '--device', device, ...args(results)]));
    return { results, port, device };
  });
  return value;
}

/** What the replay commands of an in-memory run name as the port. */
export const inMemoryPort = 'in-memory';

/**
 * Provision a card, connect to it in memory (with `fault`, as `dsc bridge --fault` has it), and run the
 * explorer once per entry of `runs`, each with `--port in-memory --device card.json` and its arguments.
 */
export async function exploreInMemory(provisionArgs: string[], fault: string | undefined, runs: ExploreArgs): Promise<{ results: CliResult[]; port: string; device: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dsc-explore-'));
  try {
    const device = join(dir, 'card.json');
    const provisioned = await runDscInProcess(['provision', ...provisionArgs, '--out', device]);
    expect(provisioned.status, provisioned.stderr).toBe(0);
    const card = await cardInMemory(device, fault);
    const results: CliResult[] = [];
    try {
      for (const args of runs) results.push(await exploreOn(card.panel, ['--port', inMemoryPort, '--device', device, ...args(results)]));
    } finally {
      card.close();
    }
    return { results, port: inMemoryPort, device };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `dsc conformance ARGV --explore` from its option check on, on a connected panel. */
async function exploreOn(panel: PanelLink, argv: string[]): Promise<CliResult> {
  const { values } = parseOptions(argv, {
    port: { type: 'string' },
    device: { type: 'string' },
    explore: { type: 'boolean' },
    runs: { type: 'string' },
    seed: { type: 'string' },
    path: { type: 'string' },
    'max-keys': { type: 'string' },
  });
  expect(values.explore).toBe(true);
  const stdout = capture();
  const stderr = capture();
  const target = targetFromDeviceFile(values.device!);
  try {
    const status = await runExplore(panel, target, exploreOptions(values), argv, false, { stdin: new PassThrough(), stdout: stdout.stream, stderr: stderr.stream, env: {}, cwd: process.cwd() });
    return { status, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    target.wipe();
  }
}

/** The shrunk counterexample of a diverged run's report. */
export function shrunk(stdout: string): { keys: string[]; expected: string; actual: string; replay: string } {
  const field = (name: string) => new RegExp(`^  ${name} +(.*)$`, 'm').exec(stdout)?.[1];
  expect(stdout, stdout).toMatch(/^explore: DIVERGED after \d+ sequences; shrunk \d+ times to \d+ keys/m);
  return { keys: field('keys')!.split(' '), expected: field('expected')!, actual: field('actual')!, replay: field('replay')! };
}

/** The arguments that run a report's replay command again (from --explore on). */
export function replayArgs(stdout: string): string[] {
  const replay = shrunk(stdout).replay.split(' ');
  return replay.slice(replay.indexOf('--explore'));
}

/**
 * Enough sequences that every fault is found whatever the seed. The search stops at the first divergence, so
 * the bound costs time only when a fault goes unfound; the rarest fault's search length has a long tail
 * (docs/bench.md has the distribution over 30 seeds), which a bound of 400 once cut short.
 */
export const faultRuns = '2000';
/** The most keys a fault's counterexample may be shrunk to. */
export const keysMax = 12;

/**
 * The checks of a fault run (`runs`: the first with `faultRuns` sequences, the second its replay): found,
 * shrunk to at most `keysMax` keys starting with the power-on, the card's frame differing from `expected`,
 * and the replay command naming the port and device file, reproducing the same keys.
 */
export function expectFaultFound(fault: string, run: { results: CliResult[]; port: string; device: string }, expected: RegExp, seed: number): void {
  const [first, replayed] = run.results as [CliResult, CliResult];
  expect(first.status, first.stdout + first.stderr).toBe(1);
  const found = shrunk(first.stdout);
  expect(found.keys.length, found.keys.join(' ')).toBeLessThanOrEqual(keysMax);
  expect(found.keys[0]).toBe('PRESS:2000');
  expect(found.expected).toMatch(expected);
  expect(found.actual).not.toBe(found.expected);
  expect(found.replay).toContain(`--port ${run.port} --device ${run.device} --explore --seed ${seed} --path `);
  if (fault === 'long-frame') expect(found.actual).toMatch(/the card sent a malformed line: .*9 characters, more than the 8 of the LCD/);
  // The same seed and path run the shrunk sequence again: the same keys, the same difference.
  expect(replayed.status, replayed.stdout + replayed.stderr).toBe(1);
  expect(shrunk(replayed.stdout).keys).toEqual(found.keys);
}

/** A fault run's two runs: `faultRuns` sequences from `seed`, then the replay command of what it found. */
export function faultRunArgs(seed: number): ExploreArgs {
  return [() => ['--explore', '--runs', faultRuns, '--seed', String(seed)], ([first]) => replayArgs(first!.stdout)];
}

/** The checks of a run on a conforming card: passed, every sequence agreeing, reaching `screens`. */
export function expectAgrees(run: CliResult, runs: number, screens: readonly string[]): void {
  expect(run.status, run.stdout + run.stderr).toBe(0);
  expect(run.stdout).toMatch(new RegExp(`^explore: passed: ${runs} sequences, every frame equal to the reference's`, 'm'));
  const reached = /screens reached: (.*)$/m.exec(run.stdout)![1]!.split(' ');
  for (const id of screens) expect(reached, run.stdout).toContain(id);
}
