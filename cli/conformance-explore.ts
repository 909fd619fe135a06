/**
 * The `--explore` half of `dsc conformance`: its options, the run, and the report of a shrunk
 * counterexample with the command that replays it (conformance/explore/ does the work).
 */
import { randomInt } from 'node:crypto';
import type { PanelLink } from '../emulator/serial/panel-link.ts';
import { explore, type ExploreResult } from '../conformance/explore/run.ts';
import { showText } from '../conformance/explore/lockstep.ts';
import type { Target } from '../conformance/target.ts';
import { exitFailure, exitOk, integerOption, UsageError, write, type Io } from './io.ts';

/** The most sequences one run may ask for. */
export const exploreRunsMax = 100_000;
export const exploreRunsDefault = 100;
/** The most user actions in one sequence. */
export const maxKeysMax = 200;
export const maxKeysDefault = 24;
/** fast-check seeds are 32-bit integers; we take the non-negative half. */
const seedMax = 2 ** 31 - 1;
/** A fast-check replay path: run and shrink indices, `12:0:3`. */
const pathPattern = /^\d{1,9}(:\d{1,9}){0,1000}$/;
/** Progress goes to stderr every this many sequences. */
const progressEvery = 10;

export const exploreHelp = `  --explore        instead of the fixed checks: random sequences of keys, holds, waits and power
                   cycles, each run on the card and on the reference firmware in lockstep; the first
                   frame that differs is shrunk to a minimal key sequence (docs/conformance.md)
  --runs N         sequences to try (default ${exploreRunsDefault})
  --seed S         the random seed (default: random, printed)
  --path P         with --seed, replay the counterexample fast-check printed
  --max-keys K     the most user actions in one sequence (default ${maxKeysDefault})`;

export interface ExploreValues {
  readonly runs?: string;
  readonly seed?: string;
  readonly path?: string;
  readonly 'max-keys'?: string;
}

/** Check the explore options before the port is opened (exit 2 on a bad one). */
export function exploreOptions(values: ExploreValues): { runs: number; seed: number; path?: string; maxKeys: number } {
  const runs = values.runs === undefined ? exploreRunsDefault : integerOption('runs', values.runs, exploreRunsMax);
  if (runs < 1) throw new UsageError('--runs expected at least 1, got 0');
  const maxKeys = values['max-keys'] === undefined ? maxKeysDefault : integerOption('max-keys', values['max-keys'], maxKeysMax);
  if (maxKeys < 1) throw new UsageError('--max-keys expected at least 1, got 0');
  const seed = values.seed === undefined ? randomInt(seedMax) : integerOption('seed', values.seed, seedMax);
  if (values.path !== undefined && !pathPattern.test(values.path)) throw new UsageError(`--path expected numbers joined by ":" (as printed with a counterexample), got ${JSON.stringify(values.path.slice(0, 40))}`);
  if (values.path !== undefined && values.seed === undefined) throw new UsageError('--path needs the --seed it was printed with');
  return { runs, seed, maxKeys, ...(values.path !== undefined && { path: values.path }) };
}

/** The command line that replays a counterexample: the card options as given, the secrets as placeholders. */
function replayCommand(argv: readonly string[], result: Extract<ExploreResult, { type: 'diverged' }>, maxKeys: number): string {
  const kept: string[] = [];
  const dropped = new Set(['--seed', '--path', '--runs', '--max-keys', '--explore', '--json']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name] = arg.split('=');
    if (dropped.has(name!)) {
      if (!arg.includes('=') && name !== '--explore' && name !== '--json') i++;
      continue;
    }
    if (name === '--pin' || name === '--password') {
      kept.push(name, name === '--pin' ? '{PIN}' : '{PASSWORD}');
      if (!arg.includes('=')) i++;
      continue;
    }
    kept.push(arg);
  }
  return `dsc conformance ${kept.join(' ')} --explore --seed ${result.seed} --path ${result.path} --max-keys ${maxKeys}`;
}

/** Say what the placeholders in a printed sequence stand for. */
function placeholderNote(keys: readonly string[]): string[] {
  const notes: string[] = [];
  if (keys.some((key) => key.startsWith('{PIN'))) notes.push("{PIN} is the card's PIN");
  if (keys.includes('{UNLOCK}')) notes.push('{UNLOCK} the unlock code for the lock code shown');
  return notes.length === 0 ? [] : [`  (${notes.join(', ')})`];
}

/**
 * Run the exploration and print its report; the exit code is 0 when every sequence agreed.
 * @example
 * return runExplore(panel, target, exploreOptions(values), argv, values.json === true, io);
 */
export async function runExplore(panel: PanelLink, target: Target, options: ReturnType<typeof exploreOptions> & { signal?: AbortSignal }, argv: readonly string[], json: boolean, io: Io): Promise<number> {
  const clock = panel.peer?.clock ?? 'real';
  if (!json) write(io.stdout, `explore: card ${target.serial} (${target.profile}, ${target.suite.text}), ${clock} clock: ${options.path === undefined ? `${options.runs} sequences of up to ${options.maxKeys} actions` : `replaying path ${options.path}`}, seed ${options.seed}`);
  const result = await explore(panel, target, {
    ...options,
    onRun: (done, shrinking) => {
      if (!json && done % progressEvery === 0) write(io.stderr, `explore: ${done} sequences run${shrinking ? ' (shrinking)' : ''}`);
    },
  });
  if (json) {
    write(io.stdout, JSON.stringify({ serial: target.serial, profile: target.profile, clock, ...result, ...(result.type === 'diverged' && { replay: replayCommand(argv, result, options.maxKeys) }) }, null, 2));
    return result.type === 'passed' ? exitOk : exitFailure;
  }
  const seconds = (result.elapsedMs / 1000).toFixed(1);
  switch (result.type) {
    case 'passed':
      write(io.stdout, `explore: passed: ${result.runs} sequences, every frame equal to the reference's (${seconds} s)\n  screens reached: ${result.screens.join(' ')}`);
      return exitOk;
    case 'stopped':
      write(io.stderr, `dsc conformance: explore stopped: ${result.message}`);
      return exitFailure;
    case 'diverged': {
      const { divergence } = result;
      write(io.stdout, [
        `explore: DIVERGED after ${result.runs} sequences; shrunk ${result.shrinks} times to ${result.keys.length} keys${result.reproduced ? '' : ' (did not diverge again when run once more: timing?)'} (${seconds} s)`,
        `  keys      ${result.keys.join(' ')}`,
        `  after     ${divergence.after}`,
        `  expected  ${showText(divergence.expected)}`,
        `  actual    ${divergence.actual === null ? 'nothing' : showText(divergence.actual)}${divergence.detail ? `  (${divergence.detail})` : ''}`,
        `  seed      ${result.seed}, path ${result.path}`,
        `  replay    ${replayCommand(argv, result, options.maxKeys)}`,
        ...placeholderNote(result.keys),
      ].join('\n'));
      write(io.stderr, `dsc conformance: explore: the card differs from the reference after ${result.keys.join(' ')}`);
      return exitFailure;
    }
  }
}
