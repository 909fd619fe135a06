/**
 * Key scripts, as `dsc press` takes them and the screen-table tests use them:
 *   0-9 (a run of digits such as 1234 is one press each), OK, BACK or ◄, PRESS (a short press),
 *   PRESS:<ms> (a hold), WAIT:<ms> (time passes), BATTERY:NEW (a fresh battery), BATTERY:<ops> (ops left).
 * Parsed completely before anything runs, so a bad token changes nothing.
 */
import { describe } from '../firmware/assert.ts';
import { batteryCapacityOps, shortPressMs, type Key } from '../firmware/types.ts';
import type { CardSession } from './card.ts';
import type { Frame } from '../firmware/types.ts';

/** The longest hold or wait one token may ask for: a day is far past every deadline of the card. */
export const scriptStepMsMax = 86_400_000;

export type ScriptAction =
  | { readonly type: 'press'; readonly key: Key; readonly holdMs: number }
  | { readonly type: 'wait'; readonly ms: number }
  | { readonly type: 'battery'; readonly remainingOps: number | 'new' };

export const keyScriptHelp = 'keys are 0-9 (or a run like 1234), OK, BACK (or ◄), PRESS, PRESS:<ms>, WAIT:<ms>, BATTERY:NEW, BATTERY:<ops>';

/** A token that is not a key; the message names it. */
export class KeyScriptError extends RangeError {
  override name = 'KeyScriptError';
}

function milliseconds(token: string, text: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) > scriptStepMsMax) {
    throw new KeyScriptError(`key ${describe(token)}: expected milliseconds 0..${scriptStepMsMax} after the colon`);
  }
  return Number(text);
}

/**
 * Parse key tokens into actions; throws KeyScriptError naming the first bad token.
 * @example
 * parseKeyScript(['PRESS:2000', '1234', 'OK']).length // 6
 */
export function parseKeyScript(tokens: readonly string[]): ScriptAction[] {
  const actions: ScriptAction[] = [];
  for (const token of tokens) {
    const upper = token.toUpperCase();
    if (/^[0-9]+$/.test(token)) {
      for (const digit of token) actions.push({ type: 'press', key: digit as Key, holdMs: shortPressMs });
    } else if (upper === 'OK' || upper === 'BACK' || token === '◄' || upper === 'PRESS') {
      actions.push({ type: 'press', key: token === '◄' ? 'BACK' : (upper as Key), holdMs: shortPressMs });
    } else if (upper.startsWith('PRESS:')) {
      actions.push({ type: 'press', key: 'PRESS', holdMs: milliseconds(token, upper.slice(6)) });
    } else if (upper.startsWith('WAIT:')) {
      actions.push({ type: 'wait', ms: milliseconds(token, upper.slice(5)) });
    } else if (upper === 'BATTERY:NEW') {
      actions.push({ type: 'battery', remainingOps: 'new' });
    } else if (upper.startsWith('BATTERY:') && /^\d{1,9}$/.test(upper.slice(8)) && Number(upper.slice(8)) <= batteryCapacityOps) {
      actions.push({ type: 'battery', remainingOps: Number(upper.slice(8)) });
    } else {
      throw new KeyScriptError(`unknown key ${describe(token)}; ${keyScriptHelp}`);
    }
  }
  return actions;
}

/**
 * Run parsed actions on a card; returns the frame after the last one.
 * @example
 * runKeyScript(card, parseKeyScript(['PRESS:2000', '1234', 'OK'])).text // 'CHALLNG>'
 */
export function runKeyScript(card: CardSession, actions: readonly ScriptAction[]): Frame {
  for (const action of actions) {
    if (action.type === 'press') card.press(action.key, action.holdMs);
    else if (action.type === 'wait') card.advance(action.ms);
    else if (action.remainingOps === 'new') card.replaceBattery();
    else card.setBattery(action.remainingOps);
  }
  return card.frame;
}
