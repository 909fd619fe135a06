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
 * The compression function and state are noble's own (`_SHA1`, `_SHA256`, `_SHA512`, reached through a
 * subclass, the way those classes are built to be extended): nothing of SHA is written here, only HMAC's
 * two-pass structure and the Merkle–Damgård padding, both fixed by their RFCs. Tests hold every output to
 * node:crypto's HMAC over random keys, lengths and messages, including every padding boundary. Those classes
 * are noble's internals, so a known-answer self-test picks the path once per hash: should an update change
 * them, the key falls back to noble's public HMAC (slower, still right; `fixedHmacPath` and its test say so).
 */
import { hmac } from '@noble/hashes/hmac.js';
import { _SHA1 } from '@noble/hashes/legacy.js';
import { _SHA256, _SHA512 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { assertBytes, assertInteger } from '../assert.ts';
import { hashFunctions } from './data-input.ts';
import type { HashName } from './suite.ts';

/** The compression function and chaining state of one SHA, with the words in digest order. */
interface Core {
  block(view: DataView, offset: number): void;
  words(): number[];
  load(words: readonly number[]): void;
  /** Zero the message schedule the last block left behind (noble's `roundClean`). */
  clean(): void;
  /** Zero the state and buffers for good. */
  wipe(): void;
}

class Sha1Core extends _SHA1 implements Core {
  block(view: DataView, offset: number): void {
    this.process(view, offset);
  }
  words(): number[] {
    return this.get();
  }
  load(w: readonly number[]): void {
    this.set(w[0]!, w[1]!, w[2]!, w[3]!, w[4]!);
  }
  clean(): void {
    this.roundClean();
  }
  wipe(): void {
    this.roundClean();
    this.destroy();
  }
}

class Sha256Core extends _SHA256 implements Core {
  block(view: DataView, offset: number): void {
    this.process(view, offset);
  }
  words(): number[] {
    return this.get();
  }
  load(w: readonly number[]): void {
    this.set(w[0]!, w[1]!, w[2]!, w[3]!, w[4]!, w[5]!, w[6]!, w[7]!);
  }
  clean(): void {
    this.roundClean();
  }
  wipe(): void {
    this.roundClean();
    this.destroy();
  }
}

class Sha512Core extends _SHA512 implements Core {
  block(view: DataView, offset: number): void {
    this.process(view, offset);
  }
  /** 16 words: the high and low halves of the eight 64-bit state words, in digest order. */
  words(): number[] {
    return this.get();
  }
  load(w: readonly number[]): void {
    this.set(w[0]!, w[1]!, w[2]!, w[3]!, w[4]!, w[5]!, w[6]!, w[7]!, w[8]!, w[9]!, w[10]!, w[11]!, w[12]!, w[13]!, w[14]!, w[15]!);
  }
  clean(): void {
    this.roundClean();
  }
  wipe(): void {
    this.roundClean();
    this.destroy();
  }
}

const cores: Record<HashName, () => Core> = { SHA1: () => new Sha1Core(), SHA256: () => new Sha256Core(), SHA512: () => new Sha512Core() };
/** Block size in bytes, and the bytes of the message bit length that ends the padding (FIPS 180-4 §5.1). */
const blockBytes: Record<HashName, number> = { SHA1: 64, SHA256: 64, SHA512: 128 };
const lengthFieldBytes: Record<HashName, number> = { SHA1: 8, SHA256: 8, SHA512: 16 };
const digestBytes: Record<HashName, number> = { SHA1: 20, SHA256: 32, SHA512: 64 };
/** Far beyond any DataInput (a few hundred bytes), and small enough that the bit length stays exact. */
const messageBytesMax = 2 ** 32;
const ipad = 0x36;
const opad = 0x5c;

/** Message length plus its padding (0x80, zeros, bit length), rounded up to whole blocks. */
function paddedBytes(hash: HashName, messageBytes: number): number {
  const block = blockBytes[hash];
  return Math.ceil((messageBytes + 1 + lengthFieldBytes[hash]) / block) * block;
}

/**
 * Write the padding of a message of `messageBytes` that follows `prefixBytes` already hashed into `buffer` (its
 * whole blocks, `paddedBytes` long, zero past the message): 0x80 right after the message, the total bit length
 * big-endian in the last 8 bytes (the higher bytes of SHA-512's 16-byte length stay zero: no message here comes
 * near 2^64 bits).
 */
function writePadding(buffer: Uint8Array, prefixBytes: number, messageBytes: number): void {
  buffer[messageBytes] = 0x80;
  const bits = (prefixBytes + messageBytes) * 8;
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.length);
  view.setUint32(buffer.length - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(buffer.length - 4, bits >>> 0);
}

function writeWords(words: readonly number[], view: DataView, offset: number, count: number): void {
  for (let i = 0; i < count; i++) view.setUint32(offset + 4 * i, words[i]!);
}

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
  if (!(hash in blockBytes)) throw new RangeError(`"hash" expected SHA1, SHA256 or SHA512, got ${JSON.stringify(hash)}`);
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
  return (paths[hash] ??= selfTest(hash) ? 'compression' : 'noble-hmac');
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
    const out = new Uint8Array(digestBytes[hash]);
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

function onCompression(hash: HashName, key: Uint8Array, messageBytes: number): FixedLengthHmac {
  const block = blockBytes[hash];
  const digest = digestBytes[hash];
  // A verifier prepares a key on every miss of its key cache, so preparing allocates little: one core does all
  // the hashing of this key (the long key, both keyed states, then every response), starting again from SHA's
  // initial value by loading it, and the key block and both padded messages share one buffer.
  const core = cores[hash]();
  const initial = core.words();
  const innerLength = paddedBytes(hash, messageBytes);
  const memory = new Uint8Array(block + innerLength + paddedBytes(hash, digest));
  const view = new DataView(memory.buffer);
  const padded = memory.subarray(0, block);
  const innerAt = block;
  const innerBuffer = memory.subarray(innerAt, innerAt + innerLength);
  const outerAt = innerAt + innerLength;
  const outerBuffer = memory.subarray(outerAt);
  writePadding(innerBuffer, block, messageBytes);
  writePadding(outerBuffer, block, digest);
  // RFC 2104 §2: a key longer than a block is hashed first; the key is then zero-padded to one block.
  if (key.length > block) {
    const long = new Uint8Array(paddedBytes(hash, key.length));
    long.set(key);
    writePadding(long, 0, key.length);
    const longView = new DataView(long.buffer);
    for (let at = 0; at < long.length; at += block) core.block(longView, at);
    writeWords(core.words(), view, 0, digest / 4);
    long.fill(0);
  } else {
    padded.set(key);
  }
  const keyedState = (pad: number): number[] => {
    core.load(initial);
    for (let i = 0; i < block; i++) padded[i]! ^= pad;
    core.block(view, 0);
    for (let i = 0; i < block; i++) padded[i]! ^= pad;
    return core.words();
  };
  const inner = keyedState(ipad);
  const outer = keyedState(opad);
  padded.fill(0);
  core.load(initial);
  core.clean(); // the schedule of the last block holds the keyed pad

  let destroyed = false;

  return {
    message: innerBuffer.subarray(0, messageBytes),
    digestInto(out: Uint8Array): void {
      if (destroyed) throw new Error('HMAC used after destroy()');
      if (out.length !== digest) throw new RangeError(`"out" expected ${digest} bytes, got ${out.length}`);
      core.load(inner);
      for (let at = innerAt; at < outerAt; at += block) core.block(view, at);
      writeWords(core.words(), view, outerAt, digest / 4);
      core.load(outer);
      core.block(view, outerAt);
      const words = core.words();
      core.clean(); // the schedule of the outer block holds the inner digest: wiped after use, as noble's digestInto does
      for (let i = 0; i < digest / 4; i++) {
        const w = words[i]!;
        out[4 * i] = w >>> 24;
        out[4 * i + 1] = w >>> 16;
        out[4 * i + 2] = w >>> 8;
        out[4 * i + 3] = w;
      }
    },
    destroy(): void {
      destroyed = true;
      inner.fill(0);
      outer.fill(0);
      memory.fill(0);
      core.wipe();
    },
  };
}
