/**
 * The emulator's key map: which terminal key does what, for the card and for the login page.
 * One table feeds the input handler, the `?` help and docs/emulator.md, so they cannot disagree.
 * Pure: the Ink layer hands in what `useInput` reported.
 */
import type { Key } from '../../firmware/types.ts';
import { powerHoldMs, shortPressMs } from '../../firmware/types.ts';

/**
 * Terminals report a key when it goes down and never when it comes up, so the emulator releases
 * every key itself: a tap is held for `shortPressMs`, a hold for `holdPressMs`. The hold is a little
 * longer than the firmware's `powerHoldMs` so the firmware's hold deadline always passes before the
 * key-up, even when the real timer fires a few milliseconds late.
 */
export const holdMarginMs = 250;
export const holdPressMs = powerHoldMs + holdMarginMs;
export const tapPressMs = shortPressMs;

/** Where typed keys go. Tab switches; the focused panel is drawn highlighted and named in the status line. */
export type Focus = 'card' | 'login';

/** What a terminal key asks for. */
export type Action =
  | { readonly type: 'card'; readonly key: Key; readonly holdMs: number }
  | { readonly type: 'loginDigit'; readonly digit: string }
  | { readonly type: 'loginBack' }
  | { readonly type: 'loginSubmit' }
  | { readonly type: 'loginCancel' }
  | { readonly type: 'newChallenge' }
  | { readonly type: 'nextDevice' }
  | { readonly type: 'changePin' }
  | { readonly type: 'unlockCode' }
  | { readonly type: 'switchFocus' }
  | { readonly type: 'toggleHelp' }
  | { readonly type: 'closeHelp' }
  | { readonly type: 'quit' };

/** The subset of Ink's `Key` the map reads (so tests can pass plain objects). */
export interface TerminalKey {
  readonly return?: boolean;
  readonly backspace?: boolean;
  readonly delete?: boolean;
  readonly tab?: boolean;
  readonly escape?: boolean;
  readonly ctrl?: boolean;
}

/** One row of the key map as help and docs show it. */
export interface KeyMapRow {
  readonly keys: string;
  readonly does: string;
}

export const cardKeyMap: readonly KeyMapRow[] = [
  { keys: '0-9', does: 'the digit keys' },
  { keys: 'Enter', does: 'OK' },
  { keys: 'Backspace', does: '◄ (delete a digit; on an empty field, back a screen)' },
  { keys: 'p', does: `PRESS, a short press (${tapPressMs} ms)` },
  { keys: 'h or Space', does: `PRESS held ~${(holdPressMs / 1000).toFixed(2)} s: power on/off, PIN change at CHALLNG> (digipass)` },
];

export const loginKeyMap: readonly KeyMapRow[] = [
  { keys: '0-9, Backspace', does: 'type into the active field (response, new PIN)' },
  { keys: 'Enter', does: 'submit: verify the response / next field' },
  { keys: 'c', does: 'a new challenge' },
  { keys: 'd', does: 'the next device, when the user has several' },
  { keys: 'n', does: 'change PIN (on the server; answer its challenge with the NEW PIN)' },
  { keys: 'u', does: 'digipass: type the lock code the card shows, get the unlock code' },
  { keys: 'Esc', does: 'cancel the PIN change or unlock' },
];

export const globalKeyMap: readonly KeyMapRow[] = [
  { keys: 'Tab', does: 'switch the keyboard between the card and the login page' },
  { keys: '?', does: 'this help: the keys, ? again the screens, ? again closes (Esc closes)' },
  { keys: 'q, Ctrl+C', does: 'quit (the card keeps its state in its device file)' },
];

/** Why a hold is a separate key: said in the help, because users expect to hold a key down. */
export const noKeyUpNote = 'Terminals send no key-up, so a key cannot be held down: h (or Space) makes a timed hold of PRESS.';

function cardAction(char: string): Action | undefined {
  if (/^[0-9]$/.test(char)) return { type: 'card', key: char as Key, holdMs: tapPressMs };
  if (char === 'p' || char === 'P') return { type: 'card', key: 'PRESS', holdMs: tapPressMs };
  if (char === 'h' || char === 'H' || char === ' ') return { type: 'card', key: 'PRESS', holdMs: holdPressMs };
  return undefined;
}

function loginAction(char: string): Action | undefined {
  if (/^[0-9]$/.test(char)) return { type: 'loginDigit', digit: char };
  switch (char.toLowerCase()) {
    case 'c':
      return { type: 'newChallenge' };
    case 'd':
      return { type: 'nextDevice' };
    case 'n':
      return { type: 'changePin' };
    case 'u':
      return { type: 'unlockCode' };
    default:
      return undefined;
  }
}

/**
 * Translate one `useInput` report into actions. Pasted text (several characters in one report, as
 * `tmux send-keys` delivers them) becomes one action per character, in order.
 *
 * @example
 * translateInput('12', {}, 'card') // two taps: 1 then 2
 * translateInput('', { return: true }, 'login') // [{ type: 'loginSubmit' }]
 */
export function translateInput(input: string, key: TerminalKey, focus: Focus, helpOpen = false): Action[] {
  if (key.ctrl && input === 'c') return [{ type: 'quit' }];
  if (key.tab) return [{ type: 'switchFocus' }];
  if (helpOpen) {
    if (key.escape) return [{ type: 'closeHelp' }];
    if (input === '?') return [{ type: 'toggleHelp' }];
    return input === 'q' ? [{ type: 'quit' }] : [];
  }
  if (key.return) return [focus === 'card' ? { type: 'card', key: 'OK', holdMs: tapPressMs } : { type: 'loginSubmit' }];
  if (key.backspace || key.delete) return [focus === 'card' ? { type: 'card', key: 'BACK', holdMs: tapPressMs } : { type: 'loginBack' }];
  if (key.escape) return focus === 'login' ? [{ type: 'loginCancel' }] : [];
  const actions: Action[] = [];
  // Characters after a Tab or `?` in the same report go where that key sent them.
  let routeTo = focus;
  let helpShown = false;
  for (const char of input) {
    if (helpShown) {
      if (char === '?') actions.push({ type: 'toggleHelp' });
      else if (char === 'q' || char === 'Q') actions.push({ type: 'quit' });
    } else if (char === '?') {
      actions.push({ type: 'toggleHelp' });
      helpShown = true;
    } else if (char === 'q' || char === 'Q') actions.push({ type: 'quit' });
    else if (char === '\t') {
      actions.push({ type: 'switchFocus' });
      routeTo = routeTo === 'card' ? 'login' : 'card';
    } else if (char === '\r') actions.push(routeTo === 'card' ? { type: 'card', key: 'OK', holdMs: tapPressMs } : { type: 'loginSubmit' });
    else if (char === '\x7f' || char === '\b') actions.push(routeTo === 'card' ? { type: 'card', key: 'BACK', holdMs: tapPressMs } : { type: 'loginBack' });
    else {
      const action = routeTo === 'card' ? cardAction(char) : loginAction(char);
      if (action) actions.push(action);
    }
  }
  return actions;
}
