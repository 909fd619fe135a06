/**
 * The SHA compression functions of @noble/hashes, one shared instance per hash, for code that lays out its own
 * blocks: the fixed-length HMAC of a prepared key (fixed-hmac.ts) and the PIN hash (data-input.ts).
 *
 * Why shared: a verifier prepares a key on every miss of its key cache, and a fresh hash object per key (its
 * buffer, its view, its state) was a good part of that cost. A core holds a chaining state only for the
 * length of one synchronous call: every user first loads its own state (or `start`s from SHA's initial value,
 * trusting nothing the last user left) and `release`s the core after, which puts back the initial value and
 * zeroes the message schedule, so nothing of one key or PIN stays in it (noble's own schedule arrays are shared
 * by every instance in the same way).
 *
 * The compression function and state are noble's own (`_SHA1`, `_SHA256`, `_SHA512`, reached through a
 * subclass, the way those classes are built to be extended): nothing of SHA is written here. Those classes are
 * noble's internals, so a known answer (FIPS 180's "abc") decides once per hash whether the core is used at all:
 * should an update change them, `shaCore` answers undefined and the callers take noble's public functions.
 */
import { _SHA1 } from '@noble/hashes/legacy.js';
import { _SHA256, _SHA512 } from '@noble/hashes/sha2.js';
import type { HashName } from './suite.ts';

/** The compression function and chaining state of one SHA, with the words in digest order. */
export interface ShaCore {
  readonly blockBytes: number;
  /** Bytes of the digest; also the chaining state's size (no truncated variants here). */
  readonly digestBytes: number;
  /** Compress the block at `offset` of `view` into the chaining state. */
  block(view: DataView, offset: number): void;
  /** Copy the chaining state into `into` from word `at` (`digestBytes / 4` words). */
  save(into: Int32Array, at: number): void;
  /** Set the chaining state from `from`, word `at` on. */
  load(from: Int32Array, at: number): void;
  /** Write the chaining state as the digest (big-endian words) into `out` at `offset`. */
  stateInto(out: Uint8Array, offset: number): void;
  /** Back to SHA's initial value: what a user hashing from the start does first, not trusting the last user. */
  start(): void;
  /** Back to SHA's initial value, the message schedule zeroed: what every user does when its call ends. */
  release(): void;
}

/** The state words of a core (noble's `get`, in digest order), read into `into`. */
function copyWords(words: readonly number[], into: Int32Array, at: number): void {
  for (let i = 0; i < words.length; i++) into[at + i] = words[i]!;
}

/** Byte by byte rather than through a DataView: a digest is a small array, whose `.buffer` V8 would have to move off its heap. */
function writeWords(words: readonly number[], out: Uint8Array, offset: number): void {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const at = offset + 4 * i;
    out[at] = w >>> 24;
    out[at + 1] = w >>> 16;
    out[at + 2] = w >>> 8;
    out[at + 3] = w;
  }
}

/** A fresh core's chaining state: SHA's initial value. */
function initialWords(core: { save(into: Int32Array, at: number): void; readonly digestBytes: number }): Int32Array {
  const words = new Int32Array(core.digestBytes / 4);
  core.save(words, 0);
  return words;
}

class Sha1Core extends _SHA1 implements ShaCore {
  readonly blockBytes = 64;
  readonly digestBytes = 20;
  block(view: DataView, offset: number): void {
    this.process(view, offset);
  }
  save(into: Int32Array, at: number): void {
    copyWords(this.get(), into, at);
  }
  load(w: Int32Array, at: number): void {
    this.set(w[at]!, w[at + 1]!, w[at + 2]!, w[at + 3]!, w[at + 4]!);
  }
  stateInto(out: Uint8Array, offset: number): void {
    writeWords(this.get(), out, offset);
  }
  /** SHA's initial value as noble's constructor set it (read once, not written out again here). */
  readonly #initial = initialWords(this);
  start(): void {
    this.load(this.#initial, 0);
  }
  release(): void {
    this.start();
    this.roundClean();
  }
}

class Sha256Core extends _SHA256 implements ShaCore {
  readonly blockBytes = 64;
  readonly digestBytes = 32;
  block(view: DataView, offset: number): void {
    this.process(view, offset);
  }
  save(into: Int32Array, at: number): void {
    copyWords(this.get(), into, at);
  }
  load(w: Int32Array, at: number): void {
    this.set(w[at]!, w[at + 1]!, w[at + 2]!, w[at + 3]!, w[at + 4]!, w[at + 5]!, w[at + 6]!, w[at + 7]!);
  }
  stateInto(out: Uint8Array, offset: number): void {
    writeWords(this.get(), out, offset);
  }
  /** SHA's initial value as noble's constructor set it (read once, not written out again here). */
  readonly #initial = initialWords(this);
  start(): void {
    this.load(this.#initial, 0);
  }
  release(): void {
    this.start();
    this.roundClean();
  }
}

/** 16 words: the high and low halves of the eight 64-bit state words, in digest order. */
class Sha512Core extends _SHA512 implements ShaCore {
  readonly blockBytes = 128;
  readonly digestBytes = 64;
  block(view: DataView, offset: number): void {
    this.process(view, offset);
  }
  save(into: Int32Array, at: number): void {
    copyWords(this.get(), into, at);
  }
  load(w: Int32Array, at: number): void {
    this.set(
      w[at]!, w[at + 1]!, w[at + 2]!, w[at + 3]!, w[at + 4]!, w[at + 5]!, w[at + 6]!, w[at + 7]!,
      w[at + 8]!, w[at + 9]!, w[at + 10]!, w[at + 11]!, w[at + 12]!, w[at + 13]!, w[at + 14]!, w[at + 15]!,
    );
  }
  stateInto(out: Uint8Array, offset: number): void {
    writeWords(this.get(), out, offset);
  }
  /** SHA's initial value as noble's constructor set it (read once, not written out again here). */
  readonly #initial = initialWords(this);
  start(): void {
    this.load(this.#initial, 0);
  }
  release(): void {
    this.start();
    this.roundClean();
  }
}

const makers: Record<HashName, () => ShaCore> = { SHA1: () => new Sha1Core(), SHA256: () => new Sha256Core(), SHA512: () => new Sha512Core() };
const knownAnswers: Record<HashName, string> = {
  SHA1: 'a9993e364706816aba3e25717850c26c9cd0d89d',
  SHA256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  SHA512: 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
};

/** Whether a fresh core, released to the initial value, hashes "abc" (one padded block) to its known digest. */
function selfTest(core: ShaCore, hash: HashName): boolean {
  try {
    const block = new Uint8Array(core.blockBytes);
    block.set([0x61, 0x62, 0x63, 0x80]);
    block[core.blockBytes - 1] = 24; // the bit length of "abc"
    core.start();
    core.block(new DataView(block.buffer), 0);
    const digest = new Uint8Array(core.digestBytes);
    core.stateInto(digest, 0);
    core.release();
    return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') === knownAnswers[hash];
  } catch {
    return false;
  }
}

const shared: Partial<Record<HashName, ShaCore | null>> = {};

/** The shared core for `hash`, or undefined when noble's internals no longer give the known answer. */
export function shaCore(hash: HashName): ShaCore | undefined {
  let core = shared[hash];
  if (core === undefined) {
    const made = makers[hash]();
    core = shared[hash] = selfTest(made, hash) ? made : null;
  }
  return core ?? undefined;
}

/** Bytes of the bit length that ends the padding (FIPS 180-4 §5.1). */
const lengthFieldBytes: Record<HashName, number> = { SHA1: 8, SHA256: 8, SHA512: 16 };

/** Message length plus its padding (0x80, zeros, bit length), rounded up to whole blocks of `blockBytes`. */
export function paddedBytes(hash: HashName, blockBytes: number, messageBytes: number): number {
  return Math.ceil((messageBytes + 1 + lengthFieldBytes[hash]) / blockBytes) * blockBytes;
}

/**
 * Write the padding of a message of `messageBytes` that follows `prefixBytes` already hashed into `buffer` (its
 * whole blocks, `paddedBytes` long, zero past the message): 0x80 right after the message, the total bit length
 * big-endian in the last 8 bytes (the higher bytes of SHA-512's 16-byte length stay zero: no message here comes
 * near 2^64 bits).
 */
export function writePadding(view: DataView, offset: number, paddedLength: number, prefixBytes: number, messageBytes: number): void {
  view.setUint8(offset + messageBytes, 0x80);
  const bits = (prefixBytes + messageBytes) * 8;
  view.setUint32(offset + paddedLength - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(offset + paddedLength - 4, bits >>> 0);
}

/** The longest text `shortAsciiDigest` takes: one block less the padding, on the smaller block. */
export const shortTextCharsMax = 64 - 9;
/** One block per hash for `shortAsciiDigest`, zero between calls. */
const shortBlocks: Partial<Record<HashName, DataView>> = {};

/**
 * The digest of `text` when it is ASCII and fits one block (a PIN, say), computed on the shared core with no
 * allocation but the digest; undefined when it is not, or when the core is not in use (the caller then takes
 * the general path). The block holding the text is zeroed before returning.
 */
export function shortAsciiDigest(hash: HashName, text: string): Uint8Array | undefined {
  const core = shaCore(hash);
  if (!core || text.length > shortTextCharsMax) return undefined;
  const view = (shortBlocks[hash] ??= new DataView(new ArrayBuffer(core.blockBytes)));
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) {
      zero(view, i);
      return undefined;
    }
    view.setUint8(i, code);
  }
  writePadding(view, 0, core.blockBytes, 0, text.length);
  core.start();
  core.block(view, 0);
  const digest = new Uint8Array(core.digestBytes);
  core.stateInto(digest, 0);
  core.release();
  zero(view, view.byteLength);
  return digest;
}

/** Zero the first `bytes` of `view` (a whole block at most: a loop beats a typed-array view for so few). */
function zero(view: DataView, bytes: number): void {
  for (let i = 0; i < bytes; i += 4) view.setUint32(i, 0);
}
