/** fast-check generators for OCRA suites and the inputs that fit them. */
import fc from 'fast-check';
import type { OcraInputs } from '../../firmware/ocra/index.ts';

export interface SuiteSpec {
  hash: 'SHA1' | 'SHA256' | 'SHA512';
  digits: number;
  counter: boolean;
  format: 'N' | 'A' | 'H';
  lengthMax: number;
  pin: 'SHA1' | 'SHA256' | 'SHA512' | undefined;
  sessionBytes: number | undefined;
  time: { count: number; unit: 'S' | 'M' | 'H' } | undefined;
}

const hashName = fc.constantFrom('SHA1' as const, 'SHA256' as const, 'SHA512' as const);

export const suiteSpec: fc.Arbitrary<SuiteSpec> = fc.record({
  hash: hashName,
  digits: fc.oneof(fc.constant(0), fc.integer({ min: 4, max: 10 })),
  counter: fc.boolean(),
  format: fc.constantFrom('N' as const, 'A' as const, 'H' as const),
  lengthMax: fc.integer({ min: 4, max: 64 }),
  pin: fc.option(hashName, { nil: undefined }),
  sessionBytes: fc.option(fc.constantFrom(1, 20, 64, 128, 256, 512), { nil: undefined }),
  time: fc.option(
    fc.oneof(
      fc.record({ count: fc.integer({ min: 1, max: 59 }), unit: fc.constant('S' as const) }),
      fc.record({ count: fc.integer({ min: 1, max: 59 }), unit: fc.constant('M' as const) }),
      fc.record({ count: fc.integer({ min: 1, max: 48 }), unit: fc.constant('H' as const) }),
    ),
    { nil: undefined },
  ),
});

export function suiteText(s: SuiteSpec): string {
  const fields = [
    ...(s.counter ? ['C'] : []),
    `Q${s.format}${String(s.lengthMax).padStart(2, '0')}`,
    ...(s.pin ? [`P${s.pin}`] : []),
    ...(s.sessionBytes ? [`S${String(s.sessionBytes).padStart(3, '0')}`] : []),
    ...(s.time ? [`T${s.time.count}${s.time.unit}`] : []),
  ];
  return `OCRA-1:HOTP-${s.hash}-${s.digits}:${fields.join('-')}`;
}

const alphabets = { N: '0123456789', A: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', H: '0123456789abcdefABCDEF' };

export function questionFor(s: SuiteSpec): fc.Arbitrary<string> {
  const chars = alphabets[s.format].split('');
  return fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: s.lengthMax }).map((a) => a.join(''));
}

export interface Case {
  spec: SuiteSpec;
  suite: string;
  key: Uint8Array;
  inputs: OcraInputs & { challenge: string; counter?: bigint; pin?: string; session?: Uint8Array; timeStep?: bigint };
}

/** A random suite with a key and inputs that fit it. */
export const ocraCase: fc.Arbitrary<Case> = suiteSpec.chain((spec) =>
  fc.record({
    key: fc.uint8Array({ minLength: 1, maxLength: 160 }),
    challenge: questionFor(spec),
    counter: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    pin: fc.string({ minLength: 1, maxLength: 12 }),
    session: fc.uint8Array({ minLength: spec.sessionBytes ?? 0, maxLength: spec.sessionBytes ?? 0 }),
    timeStep: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  }).map(({ key, challenge, counter, pin, session, timeStep }) => ({
    spec,
    suite: suiteText(spec),
    key,
    inputs: {
      challenge,
      ...(spec.counter && { counter }),
      ...(spec.pin && { pin }),
      ...(spec.sessionBytes && { session }),
      ...(spec.time && { timeStep }),
    },
  })),
);
