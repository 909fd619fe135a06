// The project's one constant-time compare (firmware/compare.ts) agrees with plain equality on every input,
// lengths differing or not.
// Seed printed; replay with FC_SEED.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { equalBytes as bytesEqual, equalStrings as constantTimeEqual } from '../../firmware/compare.ts';
import { propertyParams } from '../support/seed.ts';

describe('constant-time comparison', () => {
  it('constantTimeEqual(a, b) is a === b, for near-misses, prefixes and unrelated strings', () => {
    const nearMiss = fc.tuple(fc.string({ maxLength: 12 }), fc.nat(11), fc.string({ maxLength: 2 })).map(([a, at, c]) => [a, a.slice(0, at) + c + a.slice(at + c.length)] as const);
    const prefix = fc.string({ maxLength: 12 }).chain((a) => fc.nat(a.length).map((n) => [a, a.slice(0, n)] as const));
    fc.assert(
      fc.property(fc.oneof(nearMiss, prefix, fc.tuple(fc.string(), fc.string())), fc.boolean(), ([a, b], swap) => {
        const [x, y] = swap ? [b, a] : [a, b];
        expect(constantTimeEqual(x, y)).toBe(x === y);
      }),
      propertyParams(2000),
    );
  });

  it('a string and its NUL-padded longer self differ (past the shorter end counts as a difference)', () => {
    expect(constantTimeEqual('1234', '1234\u0000')).toBe(false);
    expect(constantTimeEqual('', '\u0000')).toBe(false);
  });

  it('bytesEqual(a, b) is byte-wise equality', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
        expect(bytesEqual(a, b)).toBe(a.length === b.length && a.every((v, i) => v === b[i]));
      }),
      propertyParams(1000),
    );
  });
});
