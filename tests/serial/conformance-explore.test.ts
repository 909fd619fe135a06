/**
 * `dsc conformance --explore` over real ptys against the real `dsc bridge`: it agrees with a conforming
 * card and finds a fault on the wire, shrunk to at most 12 keys, with a replay command that reproduces it;
 * and on a real clock, holds and waits in real time. The explorer runs in-process (`main(argv, io)`; the
 * real binary for the real-clock run), the bridge as its own process. The search itself against every other
 * fault, and the option checks, are in tests/serial/explore.test.ts (in memory). The seed is this run's (printed; FC_SEED replays it).
 */
import { describe, expect, it } from 'vitest';
import { propertyParams } from '../support/seed.ts';
import { ptySkipReason } from './support/socat.ts';
import { expectAgrees, expectFaultFound, exploreRunTimeoutMs, exploreRuns, faultRunArgs } from './support/explore-run.ts';

// The explorer takes seeds of 31 bits; this run's seed, printed by propertyParams, folded into them.
const seed = (propertyParams(1).seed as number) % 2 ** 31;

// The three runs are independent (each its own pty pair, card and bridge) and mostly wait (on the pty, or on the
// real clock), so they run at the same time.
describe.skipIf(ptySkipReason !== null)(`dsc conformance --explore against dsc bridge (seed ${seed})`, { concurrent: true }, () => {
  it('agrees with a conforming dscplus card, reaching the screens off pin challenge response tooFew', { timeout: exploreRunTimeoutMs }, async () => {
    const { results } = await exploreRuns(['--profile', 'dscplus', '--pin', '2580'], [], [() => ['--explore', '--runs', '300', '--seed', String(seed)]]);
    expectAgrees(results[0]!, 300, ['off', 'pin', 'challenge', 'response', 'tooFew']);
  });

  it('finds --fault long-frame (dscplus) and shrinks it to at most 12 keys; the replay command reproduces it', { timeout: 2 * exploreRunTimeoutMs }, async () => {
    const run = await exploreRuns(['--profile', 'dscplus', '--pin', '2580'], ['--fault', 'long-frame'], faultRunArgs(seed));
    expectFaultFound('long-frame', run, /^"[0-9]{8}"$/, seed);
  });

  // Real time on both sides: the reference follows the wall clock, and holds and waits are drawn clear of the
  // card's deadlines, so a conforming card never differs however the timers race. A few short sequences. The
  // explorer is its own process here (the real binary), so the other runs in this worker never delay its timers.
  it('agrees with a conforming digipass card on a real-clock bridge, holds and waits in real time', { timeout: exploreRunTimeoutMs }, async () => {
    const { results } = await exploreRuns(['--profile', 'digipass', '--pin', '2580'], [], [() => ['--explore', '--runs', '6', '--max-keys', '8', '--seed', String(seed)]], 'real', 'process');
    const run = results[0]!;
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/real clock: 6 sequences of up to 8 actions/);
    expect(run.stdout).toMatch(/^explore: passed: 6 sequences, every frame equal to the reference's/m);
  });
});
