/**
 * Deliberately broken firmware, for proving that `dsc conformance` (its fixed checks and `--explore`)
 * catches a card that misbehaves in its state, not only on the wire (test-only; `dsc bridge --fault`,
 * not in --help). Each fault wraps the right firmware step: it gets the state before, the event and the
 * right result, and returns what the broken card does instead. The wire faults are in serial/card-link.ts.
 * - ignore-lock: the wrong PIN that should lock the card is forgiven: the count starts again at 1 and the
 *   card goes back to PIN entry, unlocked.
 * - wrong-pins-reset-at-power-off: the wrong-PIN count is forgotten at power-off (it must survive it:
 *   otherwise switching off between guesses gives unlimited guesses).
 * - back-ignored-on-empty-challenge: ◄ on the empty CHALLNG> prompt does nothing (it must step back to PIN entry).
 */
import { assertNever } from '../firmware/assert.ts';
import type { CardState, StepResult } from '../firmware/card-state.ts';
import { step } from '../firmware/machine.ts';
import type { CardEvent } from '../firmware/types.ts';

export const cardFaults = ['ignore-lock', 'wrong-pins-reset-at-power-off', 'back-ignored-on-empty-challenge'] as const;
export type CardFault = (typeof cardFaults)[number];

export type Misstep = (before: CardState, event: CardEvent, result: StepResult) => StepResult;

/** Let time reach `atMs` and nothing else happen (re-renders the screen of `state`). */
function idle(state: CardState, atMs: number): StepResult {
  return step(state, { type: 'tick', atMs });
}

const ignoreLock: Misstep = (before, event, result) => {
  if (before.memory.locked || !result.state.memory.locked) return result;
  // This wrong PIN counts as the first again, and its FAIL message is cut short to the PIN prompt.
  const counted = step({ ...before, memory: { ...before.memory, wrongPins: 0 } }, event);
  const prompt = idle({ ...counted.state, screen: { type: 'pin', digits: '' } }, counted.state.nowMs);
  return { state: prompt.state, effects: [...counted.effects, ...prompt.effects] };
};

const wrongPinsResetAtPowerOff: Misstep = (before, _event, result) => {
  if (before.screen.type === 'off' || result.state.screen.type !== 'off' || result.state.memory.wrongPins === 0) return result;
  // Held in RAM only until the next commit writes it: that is the bug.
  return { ...result, state: { ...result.state, memory: { ...result.state.memory, wrongPins: 0 } } };
};

const backIgnoredOnEmptyChallenge: Misstep = (before, event, result) => {
  if (event.type !== 'keyDown' || event.key !== 'BACK' || before.screen.type !== 'challenge' || before.screen.digits !== '') return result;
  return idle(before, event.atMs);
};

/**
 * The broken step of `fault`.
 * @example
 * openCard({ devicePath, clock: 'virtual', misstep: misstepOf('ignore-lock') })
 */
export function misstepOf(fault: CardFault): Misstep {
  switch (fault) {
    case 'ignore-lock':
      return ignoreLock;
    case 'wrong-pins-reset-at-power-off':
      return wrongPinsResetAtPowerOff;
    case 'back-ignored-on-empty-challenge':
      return backIgnoredOnEmptyChallenge;
    default:
      return assertNever(fault, 'fault');
  }
}
