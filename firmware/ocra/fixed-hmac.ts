/**
 * HMAC (RFC 2104) over messages of one fixed length, for a key used many times: what a prepared OCRA key
 * needs, since a suite fixes the length of its DataInput.
 *
 * The generic `hmac.create(...)` path of @noble/hashes clones the keyed state, then `update` and `digestInto`
 * re-derive the block layout, copy the message's tail into the hash's buffer, write the padding and the bit
 * length, allocate a DataView per call and wipe the state twice: about as much work as the compression
 * function itself for a 3-block DataInput. With the length known up front, all of that is done once here:
 *  - the keyed inner and outer states (after the ipad and opad blocks) are computed at construction;
 *  - the message lives in a buffer that already holds its SHA padding and bit length, so each response is
 *    only the compression function over those blocks, then over one pre-padded outer block.
 * The compression function is noble's, on the shared core of `sha-core.ts`: nothing of SHA is written here, only
 * HMAC's two-pass structure and the Merkle–Damgård padding, both fixed by their RFCs. A key owns one buffer: its
 * padded message, then its two keyed states, all wiped by `destroy()`; the core and the outer block are shared and
 * hold a key's words only during one call. Tests hold every output to node:crypto's HMAC over random keys, lengths
 * and messages, including every padding boundary and keys used in any interleaving. The core's classes are
 * noble's internals, so known answers pick the path once per hash (the core's own, then RFC 2202/4231's HMAC):
 * should an update change them, the key falls back to noble's public HMAC (slower, still right; `fixedHmacPath`
 * and its test say so).
 */
import { hmac } from '@noble/hashes/hmac.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { assertBytes, assertInteger } from '../assert.ts';
import { hashFunctions } from './data-input.ts';
import { paddedBytes, shaCore, writePadding, type ShaCore } from './sha-core.ts';
import type { HashName } from './suite.ts';

const hashNames: readonly string[] = ['SHA1', 'SHA256', 'SHA512'] satisfies HashName[];
/** Far beyond any DataInput (a few hundred bytes), and small enough that the bit length stays exact. */
const messageBytesMax = 2 ** 32;
const ipad = 0x36;
const opad = 0x5c;

export interface FixedLengthHmac {
  /** Where the caller writes the message: exactly `messageBytes` long, kept between calls. */
  readonly message: Uint8Array;
  /** HMAC(key, message) into `out` (the digest length). */
  digestInto(out: Uint8Array): void;
  /** Wipe the keyed states and buffers. */
  destroy(): void;
}

/**
 * @example
 * const mac = fixedLengthHmac('SHA1', key, 3);
 * mac.message.set([1, 2, 3]);
 * mac.digestInto(out); // out = HMAC-SHA1(key, 01 02 03)
 */
export function fixedLengthHmac(hash: HashName, key: Uint8Array, messageBytes: number): FixedLengthHmac {
  if (!hashNames.includes(hash)) throw new RangeError(`"hash" expected SHA1, SHA256 or SHA512, got ${JSON.stringify(hash)}`);
  assertBytes('key', key);
  assertInteger('messageBytes', messageBytes, 0, messageBytesMax);
  return fixedHmacPath(hash) === 'compression' ? onCompression(hash, key, messageBytes) : onNobleHmac(hash, key, messageBytes);
}

/** The fallback path on its own, for its test. */
export function fixedLengthHmacOnNoble(hash: HashName, key: Uint8Array, messageBytes: number): FixedLengthHmac {
  return onNobleHmac(hash, key, messageBytes);
}

/**
 * Which path `fixedLengthHmac` takes for `hash`: the compression function, or, should a future @noble/hashes
 * change the internals the subclasses reach (`process`, `get`, `set`), its public HMAC. Decided once per hash
 * by a known answer (RFC 4231 test case 2 / RFC 2202 test case 2), so a changed dependency can make responses
 * slower but never wrong. A test holds the compression path in place for the version in package-lock.json.
 */
export function fixedHmacPath(hash: HashName): 'compression' | 'noble-hmac' {
  return (paths[hash] ??= shaCore(hash) && selfTest(hash) ? 'compression' : 'noble-hmac');
}
const paths: Partial<Record<HashName, 'compression' | 'noble-hmac'>> = {};
const knownAnswers: Record<HashName, string> = {
  SHA1: 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79',
  SHA256: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  SHA512: '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
};
function selfTest(hash: HashName): boolean {
  try {
    const text = 'what do ya want for nothing?';
    const mac = onCompression(hash, Uint8Array.from('Jefe', (c) => c.charCodeAt(0)), text.length);
    for (let i = 0; i < text.length; i++) mac.message[i] = text.charCodeAt(i);
    const out = new Uint8Array(shaCore(hash)!.digestBytes);
    mac.digestInto(out);
    mac.destroy();
    return bytesToHex(out) === knownAnswers[hash];
  } catch {
    return false;
  }
}

/** The fallback: noble's keyed HMAC state, cloned per message (what a prepared key did before this file). */
function onNobleHmac(hash: HashName, key: Uint8Array, messageBytes: number): FixedLengthHmac {
  const keyed = hmac.create(hashFunctions[hash], key);
  const work = keyed.clone();
  const message = new Uint8Array(messageBytes);
  let destroyed = false;
  return {
    message,
    digestInto(out: Uint8Array): void {
      if (destroyed) throw new Error('HMAC used after destroy()');
      keyed._cloneInto(work);
      work.update(message).digestInto(out);
    },
    destroy(): void {
      destroyed = true;
      keyed.destroy();
      work.destroy();
      message.fill(0);
    },
  };
}

/**
 * Per hash, the shared core's two blocks besides a key's own message: the key block (the key xor a pad, while
 * the keyed states are computed) and the outer message (the inner digest, then its fixed padding). Both hold a
 * key's bytes only during one call and are zeroed before it returns.
 */
interface Scratch {
  readonly keyBlock: Uint8Array;
  readonly keyView: DataView;
  readonly outer: Uint8Array;
  readonly outerView: DataView;
}
const scratches: Partial<Record<HashName, Scratch>> = {};

function scratchOf(hash: HashName, core: ShaCore): Scratch {
  let scratch = scratches[hash];
  if (!scratch) {
    const { blockBytes, digestBytes } = core;
    const memory = new ArrayBuffer(2 * blockBytes);
    const outerView = new DataView(memory, blockBytes);
    writePadding(outerView, 0, blockBytes, blockBytes, digestBytes);
    scratch = scratches[hash] = { keyBlock: new Uint8Array(memory, 0, blockBytes), keyView: new DataView(memory, 0, blockBytes), outer: new Uint8Array(memory, blockBytes), outerView };
  }
  return scratch;
}

/**
 * The keyed inner and outer states (RFC 2104 §2: the chaining state after the block key ⊕ ipad, and after
 * key ⊕ opad) into `states`, the inner's words first; a key longer than a block is hashed first.
 */
function keyStates(hash: HashName, core: ShaCore, scratch: Scratch, key: Uint8Array, states: Int32Array): void {
  const { blockBytes, digestBytes } = core;
  const { keyBlock, keyView } = scratch;
  if (key.length > blockBytes) {
    const long = new Uint8Array(paddedBytes(hash, blockBytes, key.length));
    long.set(key);
    const longView = new DataView(long.buffer);
    writePadding(longView, 0, long.length, 0, key.length);
    core.start();
    for (let at = 0; at < long.length; at += blockBytes) core.block(longView, at);
    core.stateInto(keyBlock, 0);
    long.fill(0);
  } else {
    keyBlock.set(key);
  }
  for (let i = 0; i < blockBytes; i++) keyBlock[i]! ^= ipad;
  core.start();
  core.block(keyView, 0);
  core.save(states, 0);
  for (let i = 0; i < blockBytes; i++) keyBlock[i]! ^= ipad ^ opad;
  core.start();
  core.block(keyView, 0);
  core.save(states, digestBytes / 4);
  core.release(); // the state and the schedule held the keyed pads
  keyBlock.fill(0);
}

function onCompression(hash: HashName, key: Uint8Array, messageBytes: number): FixedLengthHmac {
  return new CompressionHmac(hash, key, messageBytes);
}

/** A class rather than closures: a verifier prepares a key on every miss of its key cache, and an object is cheapest to make. */
class CompressionHmac implements FixedLengthHmac {
  readonly message: Uint8Array;
  readonly #core: ShaCore;
  readonly #scratch: Scratch;
  /** The padded message's blocks. */
  readonly #view: DataView;
  readonly #innerBytes: number;
  /** The inner keyed state's words, then the outer's. */
  readonly #states: Int32Array;
  #destroyed = false;

  constructor(hash: HashName, key: Uint8Array, messageBytes: number) {
    const core = (this.#core = shaCore(hash)!);
    const scratch = (this.#scratch = scratchOf(hash, core));
    const { blockBytes, digestBytes } = core;
    // A key allocates once: its message, already holding the SHA padding and bit length, then its two keyed
    // states. The hashing runs on the shared core.
    const innerBytes = (this.#innerBytes = paddedBytes(hash, blockBytes, messageBytes));
    const memory = new ArrayBuffer(innerBytes + 2 * digestBytes);
    this.message = new Uint8Array(memory, 0, messageBytes);
    this.#view = new DataView(memory, 0, innerBytes);
    this.#states = new Int32Array(memory, innerBytes, (2 * digestBytes) / 4);
    writePadding(this.#view, 0, innerBytes, blockBytes, messageBytes);
    keyStates(hash, core, scratch, key, this.#states);
  }

  digestInto(out: Uint8Array): void {
    if (this.#destroyed) throw new Error('HMAC used after destroy()');
    const core = this.#core;
    const { blockBytes, digestBytes } = core;
    if (out.length !== digestBytes) throw new RangeError(`"out" expected ${digestBytes} bytes, got ${out.length}`);
    const { outer, outerView } = this.#scratch;
    const view = this.#view;
    const innerBytes = this.#innerBytes;
    core.load(this.#states, 0);
    for (let at = 0; at < innerBytes; at += blockBytes) core.block(view, at);
    core.stateInto(outer, 0);
    core.load(this.#states, digestBytes / 4);
    core.block(outerView, 0);
    core.stateInto(out, 0);
    core.release(); // and the schedule of the outer block, which held the inner digest
    outer.fill(0, 0, digestBytes);
  }

  destroy(): void {
    this.#destroyed = true;
    this.#states.fill(0);
    this.message.fill(0);
  }
}
