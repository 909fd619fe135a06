/**
 * `dsc conformance --explore`: model-based conformance. fast-check draws sequences of user actions
 * (conformance/explore/steps.ts); each runs on the card under test and on the reference firmware in
 * lockstep (lockstep.ts), from the same known state; the first frame that differs fails the sequence,
 * and fast-check shrinks it to a minimal one. The result carries the seed and the path that replay it.
 */
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { pinDigits } from '../../firmware/types.ts';
import type { PanelLink } from '../../emulator/serial/panel-link.ts';
import { restore } from '../card-procedures.ts';
import { Conformance } from '../harness.ts';
import type { Target } from '../target.ts';
import { DivergenceError, Lockstep, type Divergence } from './lockstep.ts';
import { Reference, referenceRecord } from './reference.ts';
import { joinTokens, stepArbitrary, type Step } from './steps.ts';

/**
 * The most sequences run while shrinking one divergence: past it, candidates are not run (they count as
 * agreeing), so the shortest sequence found so far is the one reported. Shrinking has taken at most a few
 * dozen in practice; the bound matters on a real clock, where a sequence takes seconds.
 */
export const shrinkRunsMax = 500;

export interface ExploreOptions {
  /** Sequences to try (shrinking a failure runs more). */
  readonly runs: number;
  readonly seed: number;
  /** Replay one counterexample: the path fast-check printed with the seed. */
  readonly path?: string;
  /** The most user actions in one sequence. */
  readonly maxKeys: number;
  /** Aborted (Ctrl-C, the port gone): no further sequence starts; the result is `stopped`. */
  readonly signal?: AbortSignal;
  /** Called after every sequence run (`shrinking` once a divergence was found). */
  readonly onRun?: (done: number, shrinking: boolean) => void;
}

export type ExploreResult =
  | {
      readonly type: 'passed';
      readonly seed: number;
      readonly runs: number;
      /** The reference's screens the sequences reached (screen-table ids), to show how deep they went. */
      readonly screens: readonly string[];
      readonly elapsedMs: number;
    }
  | {
      readonly type: 'diverged';
      readonly seed: number;
      readonly path: string;
      /** Sequences run until the first divergence, and shrinking steps taken after it. */
      readonly runs: number;
      readonly shrinks: number;
      readonly divergence: Divergence;
      /** The shrunk sequence in `dsc press` syntax ({PIN} and {UNLOCK} stand for the secrets typed). */
      readonly keys: readonly string[];
      /** The shrunk sequence diverged again when run once more. */
      readonly reproduced: boolean;
      readonly elapsedMs: number;
    }
  /** The card stopped answering or could not be brought back to a known state: no sequence can be trusted. */
  | { readonly type: 'stopped'; readonly seed: number; readonly message: string; readonly elapsedMs: number };

/** The card is off and in the state the reference starts from: nothing to do before the next sequence. */
function cleanAndOff(reference: Reference | null): 'off' | 'on' | 'unknown' {
  if (reference === null) return 'unknown';
  const memory = reference.memory;
  if (memory.wrongPins !== 0 || memory.locked || memory.mustSetPin || memory.unlockTries !== 0 || memory.blocked) return 'unknown';
  return reference.screenId === 'off' ? 'off' : 'on';
}

/**
 * Explore the card on `panel` against the reference firmware for `target`.
 * @example
 * const result = await explore(panel, target, { runs: 100, seed: 42, maxKeys: 24 });
 * if (result.type === 'diverged') console.log(result.keys.join(' '));
 */
export async function explore(panel: PanelLink, target: Target, options: ExploreOptions): Promise<ExploreResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const c = new Conformance(panel, target, { responses: 0, destructive: false });
  const record = referenceRecord(target, Date.now());
  const space = {
    virtual: panel.peer?.clock === 'virtual',
    display: c.table.display,
    challengeDigits: target.suite.question.lengthMax + (target.checkDigit ? 1 : 0),
    pinDigits,
    locks: target.profile === 'digipass',
  };
  let lastReference: Reference | null = null;
  let lastDivergence: Divergence | null = null;
  let stopped: string | null = null;
  let done = 0;
  const screens = new Set<string>();

  let shrinkRuns = 0;

  async function runSequence(steps: readonly Step[]): Promise<void> {
    if (lastDivergence !== null && stopped === null && ++shrinkRuns > shrinkRunsMax) return;
    if (stopped === null && options.signal?.aborted) stopped = String(options.signal.reason);
    if (stopped !== null) throw new Error(stopped);
    try {
      const state = cleanAndOff(lastReference);
      if (state === 'unknown') await restore(c);
      else if (state === 'on') await c.driver.off(c.hold, c.table.display.idleTimeoutMs);
    } catch (error) {
      stopped = `the card could not be brought back to a known state: ${(error as Error).message}`;
      throw error;
    }
    const reference = new Reference(record);
    const lockstep = new Lockstep(panel, reference, target);
    lastReference = null;
    try {
      await lockstep.run(steps, options.signal);
      lastReference = reference;
    } catch (error) {
      if (error instanceof DivergenceError) lastDivergence = error.divergence;
      else if (options.signal?.aborted) stopped = String(options.signal.reason);
      else stopped = `the card stopped answering: ${(error as Error).message}`;
      throw error;
    } finally {
      for (const id of lockstep.screens) screens.add(id);
      lockstep.close();
      reference.close();
      options.onRun?.(++done, lastDivergence !== null);
    }
  }

  const property = fc.asyncProperty(fc.array(stepArbitrary(space), { minLength: 1, maxLength: options.maxKeys, size: 'max' }), runSequence);
  const details = await fc.check(property, { seed: options.seed, numRuns: options.runs, ...(options.path !== undefined && { path: options.path }) });
  if (stopped === null && !details.failed) await restore(c).catch(() => {});
  if (stopped !== null) return { type: 'stopped', seed: options.seed, message: stopped, elapsedMs: elapsed() };
  if (!details.failed || details.counterexample === null || lastDivergence === null) return { type: 'passed', seed: options.seed, runs: details.numRuns, screens: c.table.screens.map((row) => row.id).filter((id) => screens.has(id)), elapsedMs: elapsed() };
  const divergence: Divergence = lastDivergence;
  let reproduced = false;
  shrinkRuns = 0;
  try {
    await runSequence(details.counterexample[0]);
  } catch (error) {
    reproduced = error instanceof DivergenceError;
  }
  // Leave the card as found (off, its PIN set, nothing counted): a diverging card may show a frame the next tester cannot take.
  await restore(c).catch(() => {});
  return {
    type: 'diverged',
    seed: options.seed,
    path: details.counterexamplePath ?? '',
    runs: details.numRuns,
    shrinks: details.numShrinks,
    divergence,
    keys: joinTokens(divergence.pressed, pinDigits),
    reproduced,
    elapsedMs: elapsed(),
  };
}
