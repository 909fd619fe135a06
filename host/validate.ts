/** Checks on what callers hand the host: names are short and plain, PINs are exactly the card's digits. */
import { pinDigits } from '../firmware/types.ts';
import { HostError } from './errors.ts';

export const userCharsMax = 64;
export const serialCharsMax = 64;

/** A user name or serial: 1..max characters of A-Z a-z 0-9 . _ @ + - (safe in logs, files and SQL). */
export function checkName(name: string, value: unknown, max: number): string {
  if (typeof value !== 'string') throw new HostError('bad input', `"${name}" expected a string, got ${typeof value}`, true);
  if (value.length < 1 || value.length > max || !/^[A-Za-z0-9._@+-]+$/.test(value)) {
    throw new HostError('bad input', `"${name}" expected 1..${max} characters of A-Z a-z 0-9 . _ @ + -, got ${JSON.stringify(value.slice(0, max + 8))}`, true);
  }
  return value;
}

export function checkPin(name: string, pin: unknown): string {
  if (typeof pin !== 'string' || !new RegExp(`^\\d{${pinDigits}}$`).test(pin)) {
    throw new HostError('bad input', `"${name}" expected ${pinDigits} digits`, true); // never echo a PIN
  }
  return pin;
}

