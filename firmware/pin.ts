/**
 * The PIN rules, one owner for every caller: the keypad (machine.ts), `dsc provision`, `dsc respond`,
 * `dsc conformance`, the demo and the host. A PIN is `pinDigits` ASCII digits; a weak one (all one
 * digit, or a run up or down) is refused wherever a PIN is chosen, as the digipass keypad refuses it.
 */
import { pinDigits } from './types.ts';

/**
 * Whether `pin` is exactly `pinDigits` ASCII digits.
 * @example
 * isPin('0420') // true
 * isPin('12a4') // false
 */
export function isPin(pin: unknown): pin is string {
  if (typeof pin !== 'string' || pin.length !== pinDigits) return false;
  for (let i = 0; i < pin.length; i++) {
    const code = pin.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/**
 * `pin` when it is a PIN; a RangeError naming `name` otherwise, which says what is wrong without ever
 * showing the value (a malformed PIN may be the real one mistyped).
 * @example
 * checkPin('--pin', '12') // RangeError: --pin expected 4 digits, got 2 characters (not shown)
 */
export function checkPin(name: string, pin: unknown): string {
  if (isPin(pin)) return pin;
  const got = typeof pin !== 'string' ? typeof pin : pin.length === pinDigits ? 'a character that is not a digit' : `${pin.length} characters`;
  throw new RangeError(`${name} expected ${pinDigits} digits, got ${got} (not shown)`);
}

/**
 * A PIN the digipass keypad refuses: all digits equal, or a run up or down (1234, 9876, 0123).
 * @example
 * isWeakPin('2580') // false
 */
export function isWeakPin(pin: string): boolean {
  checkPin('"pin"', pin);
  const d = Array.from(pin, (c) => c.charCodeAt(0) - 48);
  const steps = d.slice(1).map((x, i) => x - d[i]!);
  return steps.every((s) => s === 0) || steps.every((s) => s === 1) || steps.every((s) => s === -1);
}

/**
 * `pin` when it may be chosen as a new PIN (a PIN, and not weak); a RangeError naming `name` otherwise.
 * @example
 * checkNewPin('--pin', '1111') // RangeError: --pin is too easy to guess …
 */
export function checkNewPin(name: string, pin: unknown): string {
  const checked = checkPin(name, pin);
  if (isWeakPin(checked)) throw new RangeError(`${name} is too easy to guess (all one digit, or a run up or down), and the card's keypad refuses such a PIN: choose another`);
  return checked;
}
