// Issued challenges never start with 0. OCRA encodes a numeric question as left-aligned hex (RFC 6287
// Appendix A), so values a factor of 16^k apart ("000004" and "000064") share a response. Within
// [10^(n-1), 10^n) no two values are a factor of 16 apart, so no two issued challenges can share one.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { drawChallenge, questionOf } from '../../host/challenge.ts';
import { luhnValid } from '../../firmware/luhn.ts';
import { propertyParams } from '../support/seed.ts';

/** A deterministic xorshift32 byte stream from a fast-check seed, so a failing draw replays from the seed. */
function seeded(seed: number): (count: number) => Uint8Array {
  let state = seed | 1;
  return (count) =>
    Uint8Array.from({ length: count }, () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state & 0xff;
    });
}

describe('challenge draw', () => {
  it('has the suite length, a non-zero first digit and, when asked, a valid Luhn digit', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 4, max: 16 }), fc.boolean(), (seed, digits, checkDigit) => {
        const shown = drawChallenge(seeded(seed), digits, checkDigit);
        const question = questionOf(shown, checkDigit);
        expect(question).toMatch(new RegExp(`^[1-9][0-9]{${digits - 1}}$`));
        if (checkDigit) expect(luhnValid(shown)).toBe(true);
      }),
      propertyParams(2000),
    );
  });

  it('uses every leading digit 1-9 (the draw is not pinned to one range)', () => {
    const seen = new Set<string>();
    const source = seeded(20261123);
    for (let i = 0; i < 200; i++) seen.add(drawChallenge(source, 6, false)[0]!);
    expect([...seen].sort().join('')).toBe('123456789');
  });
});
