/** Checks on what callers hand the host: names are short and plain, PINs are exactly the card's digits. */
import { isPin } from '../firmware/pin.ts';
import { pinDigits } from '../firmware/types.ts';
import { HostError } from './errors.ts';

export const userCharsMax = 64;
export const serialCharsMax = 64;

/** A user name or serial: 1..max characters of A-Z a-z 0-9 . _ @ + - (safe in logs, files and SQL). */
/** The characters of a user or serial name, as a table by char code (checked on every challenge and verify). */
const nameChar = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@+-') nameChar[c.charCodeAt(0)] = 1;

function nameCharsOnly(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (nameChar[value.charCodeAt(i)] !== 1) return false;
  return true;
}

export function checkName(name: string, value: unknown, max: number): string {
  if (typeof value !== 'string') throw new HostError('bad input', `the ${name} expected a string, got ${typeof value}`, true);
  if (value.length < 1 || value.length > max || !nameCharsOnly(value)) {
    throw new HostError('bad input', `the ${name} expected 1..${max} characters of A-Z a-z 0-9 . _ @ + -, got ${JSON.stringify(value.slice(0, max + 8))}`, true);
  }
  return value;
}

/** A PIN by the firmware's rule (firmware/pin.ts), refused as the host's bad input. */
export function checkPin(name: string, pin: unknown): string {
  if (!isPin(pin)) {
    throw new HostError('bad input', `the ${name} expected ${pinDigits} digits`, true); // never echo a PIN
  }
  return pin;
}

