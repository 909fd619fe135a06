/**
 * The explorer of `dsc conformance --explore` (conformance/explore/, its report and replay command in
 * cli/conformance-explore.ts) against the card over an in-process cable, wired as `dsc bridge --clock
 * virtual --fault …` wires it: it agrees with a conforming card and goes deep (responses, the lock and the
 * unlock), and it finds each deliberate fault of the card's state and of the wire, shrunk to at most 12
 * keys, with a replay command that reproduces it. Over real ptys against the real bridge:
 * tests/serial/conformance-explore.test.ts. The seed is this run's (printed; FC_SEED replays it).
 */
import { describe, expect, it } from 'vitest';
import { runDscInProcess } from '../support/cli.ts';
import { propertyParams } from '../support/seed.ts';
import { expectAgrees, expectFaultFound, exploreInMemory, exploreRunTimeoutMs, faultRunArgs } from './support/explore-run.ts';

// The explorer takes seeds of 31 bits; this run's seed, printed by propertyParams, folded into them.
const seed = (propertyParams(1).seed as number) % 2 ** 31;

describe(`the explorer against a card in memory (seed ${seed})`, () => {
  it('agrees with a conforming digipass card, reaching the screens off pin challenge response pinFail lockPin lockCode unlock newPin', { timeout: exploreRunTimeoutMs }, async () => {
    const { results } = await exploreInMemory(['--profile', 'digipass', '--pin', '2580'], undefined, [() => ['--explore', '--runs', '300', '--seed', String(seed)]]);
    expectAgrees(results[0]!, 300, ['off', 'pin', 'challenge', 'response', 'pinFail', 'lockPin', 'lockCode', 'unlock', 'newPin']);
  });

  it.each([
    ['wrong-response', 'dscplus', /^"[0-9]{8}"$/],
    ['long-frame', 'dscplus', /^"[0-9]{8}"$/],
    ['back-ignored-on-empty-challenge', 'dscplus', /^"PIN>"$/],
    ['ignore-lock', 'digipass', /^"LOCK PIN" \[locked\]$/],
    ['wrong-pins-reset-at-power-off', 'digipass', /^"FAIL [2-5]"$/],
  ])('finds --fault %s (%s) and shrinks it to at most 12 keys; the replay command reproduces it', { timeout: 2 * exploreRunTimeoutMs }, async (fault, profile, expected) => {
    const run = await exploreInMemory(['--profile', profile, '--pin', '2580'], fault, faultRunArgs(seed));
    expectFaultFound(fault, run, expected, seed);
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
