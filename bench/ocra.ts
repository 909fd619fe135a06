/**
 * OCRA responses per second with a prepared key, next to the bare HMAC it is built on, over the very same
 * DataInput bytes, measured in this run, in alternating rounds (see `interleavedRates`: each ratio is the
 * median of ratios taken within a round, so drift in the machine's speed does not enter it):
 *  - noble HMAC, keyed state reused (`hmac.create` once, cloned per message: the "bare HMAC", target
 *    ≥ 0.95×),
 *  - the engine's own HMAC alone (firmware/ocra/fixed-hmac.ts: noble's compression functions with the padding
 *    and keyed states worked out once), so the cost of encoding the inputs and truncating shows on its own,
 *  - noble HMAC one-shot (re-keys every call, as a naive caller would),
 *  - node:crypto's native HMAC (the limit to approach).
 */
import { createHmac } from 'node:crypto';
import { hmac } from '@noble/hashes/hmac.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { hashPin, parseSuite, prepareOcra, type OcraInputs } from '../firmware/ocra/index.ts';
import { dataInputLength, hashFunctions, writeDataInput } from '../firmware/ocra/data-input.ts';
import { fixedHmacPath, fixedLengthHmac } from '../firmware/ocra/fixed-hmac.ts';
import { interleavedRates, type Row } from './harness.ts';

const key32 = hexToBytes('3132333435363738393031323334353637383930313233343536373839303132');

const cases: { label: string; suite: string; inputs: OcraInputs }[] = [
  { label: 'SHA1 (DSC+ default)', suite: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', inputs: { challenge: '123456', pinHash: hashPin('SHA1', '1234') } },
  { label: 'SHA256', suite: 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1', inputs: { challenge: '12345678', counter: 7, pinHash: hashPin('SHA1', '1234') } },
  { label: 'SHA512', suite: 'OCRA-1:HOTP-SHA512-8:QN08-T1M', inputs: { challenge: '12345678', timeStep: 0x132d0b6 } },
];

const nodeHash = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' } as const;

export async function bench(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const { label, suite, inputs } of cases) {
    const parsed = parseSuite(suite);
    const message = new Uint8Array(dataInputLength(parsed));
    message.set(new TextEncoder().encode(suite));
    writeDataInput(parsed, inputs, message);
    const hash = hashFunctions[parsed.hash];

    const prepared = prepareOcra(parsed, key32);
    const keyed = hmac.create(hash, key32);
    const work = keyed.clone();
    const out = new Uint8Array(hash.outputLen);
    const nodeKey = Buffer.from(key32);
    const fixed = fixedLengthHmac(parsed.hash, key32, message.length);
    fixed.message.set(message);
    const {
      rates: [engine, nobleKeyed, own, nobleOneShot, native],
      ratiosToFirst: [, keyedPerEngine, ownPerEngine, oneShotPerEngine, nativePerEngine],
    } = interleavedRates([
      () => prepared.respond(inputs),
      () => {
        keyed._cloneInto(work);
        work.update(message).digestInto(out);
      },
      () => fixed.digestInto(out),
      () => hmac(hash, key32, message),
      () => createHmac(nodeHash[parsed.hash], nodeKey).update(message).digest(),
    ]);
    prepared.destroy();
    keyed.destroy();
    fixed.destroy();

    const section = `ocra ${label}`;
    const engineName = 'OCRA respond(), prepared key';
    rows.push(
      { section, name: engineName, value: engine!, unit: 'responses/s', ratio: 1 / keyedPerEngine!, reference: 'noble HMAC, keyed state reused', note: `target ≥ 0.95× (HMAC on the ${fixedHmacPath(parsed.hash)} path)` },
      { section, name: 'noble HMAC, keyed state reused', value: nobleKeyed!, unit: 'HMAC/s' },
      { section, name: "the engine's HMAC alone (fixed length)", value: own!, unit: 'HMAC/s', ratio: 1 / ownPerEngine!, reference: `${engineName} vs this`, note: 'what encoding the inputs and truncating cost' },
      { section, name: 'noble HMAC one-shot (re-keys)', value: nobleOneShot!, unit: 'HMAC/s', ratio: 1 / oneShotPerEngine!, reference: `${engineName} vs this` },
      { section, name: 'node:crypto HMAC (native)', value: native!, unit: 'HMAC/s', ratio: 1 / nativePerEngine!, reference: `${engineName} vs this`, note: 'the limit to approach' },
    );
  }
  return rows;
}
