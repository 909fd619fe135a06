// The library's provisionDeviceFile chooses a PIN, so it applies the one weak-PIN rule (firmware/pin.ts
// checkNewPin) the keypad and `dsc provision` apply: a refusal names "pin", never shows it, writes nothing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { provisionDeviceFile, readDeviceFile } from '../../emulator/card.ts';
import { isWeakPin } from '../../firmware/pin.ts';
import { profiles } from '../../firmware/types.ts';
import { propertyParams } from '../support/seed.ts';
import { scratchFolder } from '../support/temp.ts';

const dir = scratchFolder('dsc-provision-pin-');
let files = 0;
const allPins = Array.from({ length: 10_000 }, (_, n) => String(n).padStart(4, '0'));
const fresh = () => join(dir, `card-${files++}.json`);
const weakMessage = /^"pin" is too easy to guess \(all one digit, or a run up or down\), and the card's keypad refuses such a PIN: choose another$/;

describe('provisionDeviceFile and weak PINs', () => {
  it.each(profiles.flatMap((profile) => ['1234', '0000', '9876', '0123'].map((pin) => [profile, pin] as const)))('%s: refuses %s naming "pin" and writes no file', (profile, pin) => {
    const out = fresh();
    expect(() => provisionDeviceFile(out, { profile, pin })).toThrow(weakMessage);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a weak PIN with overwrite and leaves the existing file byte for byte', () => {
    const out = fresh();
    provisionDeviceFile(out, { pin: '4826' });
    const before = readFileSync(out);
    expect(() => provisionDeviceFile(out, { pin: '1111', overwrite: true })).toThrow(weakMessage);
    expect(readFileSync(out)).toEqual(before);
  });

  it('refuses a malformed PIN naming "pin" without showing it', () => {
    const out = fresh();
    expect(() => provisionDeviceFile(out, { pin: '12a4' })).toThrow(/^"pin" expected 4 digits, got a character that is not a digit \(not shown\)$/);
    expect(existsSync(out)).toBe(false);
  });

  it('accepts a PIN exactly when the keypad rule does', () => {
    fc.assert(
      // Half the draws from the 24 weak PINs, which a uniform draw would almost never reach.
      fc.property(fc.oneof(fc.constantFrom(...allPins.filter(isWeakPin)), fc.constantFrom(...allPins)), (pin) => {
        const out = fresh();
        if (isWeakPin(pin)) {
          expect(() => provisionDeviceFile(out, { pin })).toThrow(weakMessage);
          expect(existsSync(out)).toBe(false);
        } else {
          expect(provisionDeviceFile(out, { pin }).serial).toBe(readDeviceFile(out).serial);
        }
      }),
      propertyParams(40),
    );
  });
});
