/**
 * `dsc conformance --explore` over real ptys against `dsc bridge`: it agrees with a conforming card
 * (and goes deep: responses, the lock and the unlock), and it finds each deliberate fault of the bridge,
 * wire faults and faults of the card's state alike, shrunk to at most 12 keys, with a replay command
 * that reproduces it. The seed is this run's (printed; FC_SEED replays it).
 */
import { describe, expect, it } from 'vitest';
import { runDscInProcess } from '../support/cli.ts';
import { propertyParams } from '../support/seed.ts';
import { ptySkipReason } from './support/socat.ts';
import { exploreRunTimeoutMs, exploreRuns } from './support/explore-run.ts';

// The explorer takes seeds of 31 bits; this run's seed, printed by propertyParams, folded into them.
const seed = (propertyParams(1).seed as number) % 2 ** 31;
/** Enough sequences that every fault is found whatever the seed (each is found within ~100 in practice). */
const faultRuns = '400';
const keysMax = 12;

function shrunk(stdout: string): { keys: string[]; expected: string; actual: string; replay: string } {
  const field = (name: string) => new RegExp(`^  ${name} +(.*)$`, 'm').exec(stdout)?.[1];
  expect(stdout, stdout).toMatch(/^explore: DIVERGED after \d+ sequences; shrunk \d+ times to \d+ keys/m);
  return { keys: field('keys')!.split(' '), expected: field('expected')!, actual: field('actual')!, replay: field('replay')! };
}

describe.skipIf(ptySkipReason !== null)(`dsc conformance --explore against dsc bridge (seed ${seed})`, () => {
  it.each([
    ['dscplus', ['off', 'pin', 'challenge', 'response', 'tooFew']],
    ['digipass', ['off', 'pin', 'challenge', 'response', 'pinFail', 'lockPin', 'lockCode', 'unlock', 'newPin']],
  ])('agrees with a conforming %s card, reaching the screens %j', { timeout: exploreRunTimeoutMs }, async (profile, screens) => {
    const { results } = await exploreRuns(['--profile', profile, '--pin', '2580'], [], [() => ['--explore', '--runs', '300', '--seed', String(seed)]]);
    const run = results[0]!;
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^explore: passed: 300 sequences, every frame equal to the reference's/m);
    const reached = /screens reached: (.*)$/m.exec(run.stdout)![1]!.split(' ');
    for (const id of screens) expect(reached, run.stdout).toContain(id);
  });

  it.each([
    ['wrong-response', 'dscplus', /^"[0-9]{8}"$/],
    ['long-frame', 'dscplus', /^"[0-9]{8}"$/],
    ['back-ignored-on-empty-challenge', 'dscplus', /^"PIN>"$/],
    ['ignore-lock', 'digipass', /^"LOCK PIN" \[locked\]$/],
    ['wrong-pins-reset-at-power-off', 'digipass', /^"FAIL [2-5]"$/],
  ])('finds --fault %s (%s) and shrinks it to at most 12 keys; the replay command reproduces it', { timeout: 2 * exploreRunTimeoutMs }, async (fault, profile, expected) => {
    const { results, port, device } = await exploreRuns(['--profile', profile, '--pin', '2580'], ['--fault', fault], [
      () => ['--explore', '--runs', faultRuns, '--seed', String(seed)],
      ([first]) => {
        const replay = shrunk(first!.stdout).replay.split(' ');
        return replay.slice(replay.indexOf('--explore'));
      },
    ]);
    const [first, replayed] = results as [typeof results[0], typeof results[0]];
    expect(first.status, first.stdout + first.stderr).toBe(1);
    const found = shrunk(first.stdout);
    expect(found.keys.length, found.keys.join(' ')).toBeLessThanOrEqual(keysMax);
    expect(found.keys[0]).toBe('PRESS:2000');
    expect(found.expected).toMatch(expected);
    expect(found.actual).not.toBe(found.expected);
    expect(found.replay).toContain(`--port ${port} --device ${device} --explore --seed ${seed} --path `);
    if (fault === 'long-frame') expect(found.actual).toMatch(/the card sent a malformed line: .*9 characters, more than the 8 of the LCD/);
    // The same seed and path run the shrunk sequence again: the same keys, the same difference.
    expect(replayed.status, replayed.stdout + replayed.stderr).toBe(1);
    expect(shrunk(replayed.stdout).keys).toEqual(found.keys);
  });
});

describe.skipIf(ptySkipReason !== null)(`dsc conformance --explore against a real-clock dsc bridge (seed ${seed})`, () => {
  // Real time on both sides: the reference follows the wall clock, and holds and waits are drawn clear of the
  // card's deadlines, so a conforming card never differs however the timers race. A few short sequences.
  it('agrees with a conforming digipass card, holds and waits in real time', { timeout: exploreRunTimeoutMs }, async () => {
    const { results } = await exploreRuns(['--profile', 'digipass', '--pin', '2580'], [], [() => ['--explore', '--runs', '6', '--max-keys', '8', '--seed', String(seed)]], 'real');
    const run = results[0]!;
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/real clock: 6 sequences of up to 8 actions/);
    expect(run.stdout).toMatch(/^explore: passed: 6 sequences, every frame equal to the reference's/m);
  });
});

describe('dsc conformance --explore arguments', () => {
  it.each([
    [['--runs', '0'], /--runs expected at least 1, got 0/],
    [['--runs', 'lots'], /--runs expected a non-negative integer, got "lots"/],
    [['--max-keys', '201'], /--max-keys expected at most 200, got 201/],
    [['--seed=-3'], /--seed expected a non-negative integer, got "-3"/],
    [['--path', '1:2'], /--path needs the --seed it was printed with/],
    [['--seed', '1', '--path', '1;rm'], /--path expected numbers joined by ":"/],
  ])('dsc conformance --explore %j exits 2 with a clear message', async (args, message) => {
    const result = await runDscInProcess(['conformance', '--port', '/dev/null', '--device', 'x.json', '--explore', ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
