// RFC 6287 Appendix C: every vector, one-shot and through a prepared key reused across the whole group
// (the way a verifier uses it), plus the reference oracle agreeing with the RFC (so the oracle is trusted).
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '@noble/hashes/utils.js';
import { ocra, prepareOcra, type OcraInputs } from '../../firmware/ocra/index.ts';
import { referenceOcra } from '../support/reference-ocra.ts';
import { ocraVectors, pinHashSHA1, type OcraVector } from '../support/vectors.ts';

function inputsOf(v: OcraVector): OcraInputs {
  return {
    challenge: v.challenge,
    ...(v.counter !== undefined && { counter: v.counter }),
    ...(v.pin !== undefined && { pin: v.pin }),
    ...(v.timeStep !== undefined && { timeStep: v.timeStep }),
  };
}

describe('RFC 6287 Appendix C vectors', () => {
  it('has all 70 vectors of C.1, C.2 and C.3', () => {
    const sections = new Set(ocraVectors.map((v) => v.section));
    expect(ocraVectors).toHaveLength(70);
    expect([...sections].sort()).toEqual(['C.1', 'C.2 client', 'C.2 server', 'C.3']);
  });

  it.each(ocraVectors.map((v, i) => [`${v.section} #${i} ${v.suite} ${JSON.stringify(v.challenge)}`, v] as const))('one-shot %s', (_, v) => {
    expect(ocra(v.suite, hexToBytes(v.key), inputsOf(v))).toBe(v.response);
  });

  it('a prepared key reused across every vector of its suite gives the same answers in any order', () => {
    const groups = new Map<string, OcraVector[]>();
    for (const v of ocraVectors) groups.set(`${v.suite}|${v.key}`, [...(groups.get(`${v.suite}|${v.key}`) ?? []), v]);
    for (const group of groups.values()) {
      const key = prepareOcra(group[0]!.suite, hexToBytes(group[0]!.key));
      const forward = group.map((v) => key.respond(inputsOf(v)));
      const backward = [...group].reverse().map((v) => key.respond(inputsOf(v))).reverse();
      expect(forward).toEqual(group.map((v) => v.response));
      expect(backward).toEqual(forward);
      key.destroy();
    }
  });

  it('a PIN hash gives the same response as the PIN it hashes', () => {
    for (const v of ocraVectors.filter((x) => x.pin !== undefined)) {
      const { pin: _pin, ...rest } = inputsOf(v);
      expect(ocra(v.suite, hexToBytes(v.key), { ...rest, pinHash: hexToBytes(pinHashSHA1) })).toBe(v.response);
    }
  });

  it('the node:crypto reference oracle agrees with the RFC, so property tests can trust it', () => {
    for (const v of ocraVectors) {
      const question = typeof v.challenge === 'string' ? v.challenge : v.challenge.join('');
      const { response } = referenceOcra({
        suite: v.suite,
        keyHex: v.key,
        question,
        ...(v.counter !== undefined && { counter: BigInt(v.counter) }),
        ...(v.pin !== undefined && { pin: v.pin }),
        ...(v.timeStep !== undefined && { timeStep: BigInt(v.timeStep) }),
      });
      expect(response).toBe(v.response);
    }
  });

  it('a destroyed key refuses to compute', () => {
    const v = ocraVectors[0]!;
    const key = prepareOcra(v.suite, hexToBytes(v.key));
    key.destroy();
    expect(() => key.respond(inputsOf(v))).toThrow(/after destroy/);
  });
});
