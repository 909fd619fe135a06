/**
 * Which counter and time step, if any, produced a response: the one matcher for every verifier (the
 * login server in host/match.ts, the conformance tester in conformance/target.ts). The window is the caller's policy, so it is a parameter:
 * a login server searches narrowly (each candidate is a guess it grants an attacker), a tester widely
 * (a card may have been used between runs). Pure, like the rest of the engine.
 */
import { assertInteger, assertString } from '../assert.ts';
import { equalStrings } from '../compare.ts';
import type { OcraInputs } from './data-input.ts';
import type { OcraKey } from './ocra.ts';

/** The widest window a caller may ask for, per side: bounds the HMACs one match may cost. */
export const matchWindowMax = 1_000;

export interface MatchWindow {
  /** Counters tried after `counter` (counter suites): `counter` … `counter + counterLookAhead`. */
  readonly counterLookAhead: number;
  /** Time steps tried either side of `nowStep` (time suites). */
  readonly timeStepWindow: number;
}

export interface MatchAt {
  /** The next counter the card is expected to use (counter suites; ignored otherwise). */
  readonly counter: number;
  /** The time step now (time suites; ignored otherwise). */
  readonly nowStep?: number;
  /** Only steps after this one count (a time-based response is not taken twice). */
  readonly afterStep?: number;
}

export interface Match {
  /** The counter that produced the response (undefined for suites without one). */
  readonly counter: number | undefined;
  /** The time step that produced it (undefined for suites without one). */
  readonly timeStep: number | undefined;
}

/**
 * Search the window for the counter and time step whose response is `response`. Every candidate is
 * computed and compared, so the time taken does not say which one matched; the earliest match wins.
 * @example
 * const key = prepareOcra('OCRA-1:HOTP-SHA1-8:C-QN06-PSHA1', secret);
 * matchResponse(key, { challenge: '123456', pin: '2580' }, shown, { counter: 4 }, { counterLookAhead: 10, timeStepWindow: 1 });
 * // { counter: 6, timeStep: undefined } when the card had been used twice since
 */
export function matchResponse(key: OcraKey, base: Omit<OcraInputs, 'counter' | 'timeStep'>, response: string, at: MatchAt, window: MatchWindow): Match | null {
  assertString('response', response);
  assertInteger('counterLookAhead', window.counterLookAhead, 0, matchWindowMax);
  assertInteger('timeStepWindow', window.timeStepWindow, 0, matchWindowMax);
  const { suite } = key;
  let counters: (number | undefined)[] = [undefined];
  if (suite.counter) {
    const from = assertInteger('counter', at.counter, 0, Number.MAX_SAFE_INTEGER);
    // Only counters whose successor is still a safe integer: a verifier stores `match + 1` as the next counter.
    counters = [];
    for (let counter = from; counter <= from + window.counterLookAhead && counter < Number.MAX_SAFE_INTEGER; counter++) counters.push(counter);
  }
  let steps: (number | undefined)[] = [undefined];
  if (suite.timeStepSeconds !== undefined) {
    const now = assertInteger('nowStep', at.nowStep, 0, Number.MAX_SAFE_INTEGER);
    steps = [];
    for (let step = now - window.timeStepWindow; step <= now + window.timeStepWindow; step++) if (step >= 0 && (at.afterStep === undefined || step > at.afterStep)) steps.push(step);
  }
  let match: Match | null = null;
  for (const counter of counters) {
    for (const timeStep of steps) {
      const expected = key.respond({ ...base, ...(counter !== undefined && { counter }), ...(timeStep !== undefined && { timeStep }) });
      if (equalStrings(expected, response) && match === null) match = { counter, timeStep };
    }
  }
  return match;
}
