/**
 * The card's persistent memory: a 256-byte image with a fixed, versioned layout.
 *
 *   0..175   static block, written once at provisioning (identity and the sealed secret), CRC-32 at 172
 *   176..215 slot A  } the changing state (counters, PIN check value, battery, lock), each with a
 *   216..255 slot B  } sequence number and a CRC-32; the valid slot with the newer sequence number wins
 *
 * Power-loss safety: a write only ever touches the slot that does NOT hold the current state, so a write
 * interrupted at any byte leaves the current slot intact; the half-written slot fails its CRC and is ignored.
 * The layout is documented byte by byte in docs/firmware.md.
 */
import { crc32 } from './crc32.ts';
import { memoryImageBytes, type Profile } from './types.ts';

export const layoutVersion = 1;
export const magic = [0x44, 0x53, 0x43, 0x2b] as const; // "DSC+"
export const suiteCharsMax = 48;
export const secretBytesMin = 16;
export const secretBytesMax = 64;
export const nonceBytes = 24; // XChaCha20-Poly1305
export const tagBytes = 16;
export const pinCheckBytes = 8;

const at = {
  magic: 0,
  version: 4,
  profile: 5,
  flags: 6,
  serial: 7,
  suiteLength: 11,
  suite: 12,
  secretLength: 60,
  nonce: 61,
  sealed: 85,
  staticCrc: 172,
  /** The AEAD's associated data: everything that names the card and its secret, so none of it can be swapped. */
  aadEnd: 61,
} as const;
export const staticBytes = 176;
export const slotBytes = 40;
export const slotOffsets = [staticBytes, staticBytes + slotBytes] as const;
const slot = { seq: 0, flags: 4, wrongPins: 5, unlockTries: 6, counter: 8, pinCheck: 16, batteryUsed: 24, lockCode: 28, crc: 36 } as const;

if (staticBytes + 2 * slotBytes !== memoryImageBytes) throw new Error('memory layout does not add up to memoryImageBytes');

/** Written once at provisioning. */
export interface StaticPart {
  readonly profile: Profile;
  readonly checkDigit: boolean;
  readonly serial: number;
  readonly suite: string;
  readonly secretLength: number;
  readonly nonce: Uint8Array;
  /** The secret sealed with XChaCha20-Poly1305 under the device key (ciphertext ‖ tag). */
  readonly sealed: Uint8Array;
}

/** The state that changes, kept in the two slots. */
export interface Persistent {
  readonly seq: number;
  /** digipass: a PIN check value is set. */
  readonly pinSet: boolean;
  readonly locked: boolean;
  /** digipass: too many wrong unlock codes; the card never works again. */
  readonly blocked: boolean;
  /** digipass: the next power-on must set a new PIN (first use, or after an unlock). */
  readonly mustSetPin: boolean;
  readonly wrongPins: number;
  readonly unlockTries: number;
  /** OCRA counter C (suites with C), stepped before each response is shown. */
  readonly counter: number;
  readonly pinCheck: Uint8Array;
  readonly batteryUsedOps: number;
  /** digipass: the lock code shown while locked (0 when not locked). */
  readonly lockCode: number;
}

/** The image cannot be used: names what is wrong. */
export class MemoryImageError extends Error {
  override name = 'MemoryImageError';
}

const profileCodes: Readonly<Record<Profile, number>> = { dscplus: 0, digipass: 1 };

/**
 * The AEAD associated data of an image: its identity bytes (copy).
 * @example
 * unseal(deviceKey, part.nonce, sealAad(image), part.sealed)
 */
export function sealAad(image: Uint8Array): Uint8Array {
  return image.slice(0, at.aadEnd);
}

/**
 * Write the static block (without the sealed secret's bytes, which depend on the AAD) into a fresh image.
 * @example
 * const header = encodeStaticHeader({ profile: 'dscplus', checkDigit: false, serial: 1, suite, secretLength: 20, nonce });
 */
export function encodeStaticHeader(part: Omit<StaticPart, 'sealed'>): Uint8Array {
  const image = new Uint8Array(memoryImageBytes);
  const view = new DataView(image.buffer);
  image.set(magic, at.magic);
  image[at.version] = layoutVersion;
  image[at.profile] = profileCodes[part.profile];
  image[at.flags] = part.checkDigit ? 1 : 0;
  view.setUint32(at.serial, part.serial);
  if (part.suite.length > suiteCharsMax || !/^[\x20-\x7e]*$/.test(part.suite)) {
    throw new RangeError(`"suite" expected at most ${suiteCharsMax} ASCII characters, got ${part.suite.length}`);
  }
  image[at.suiteLength] = part.suite.length;
  for (let i = 0; i < part.suite.length; i++) image[at.suite + i] = part.suite.charCodeAt(i);
  if (part.secretLength < secretBytesMin || part.secretLength > secretBytesMax) {
    throw new RangeError(`"secret" expected ${secretBytesMin}..${secretBytesMax} bytes, got ${part.secretLength}`);
  }
  image[at.secretLength] = part.secretLength;
  if (part.nonce.length !== nonceBytes) throw new RangeError(`"nonce" expected ${nonceBytes} bytes, got ${part.nonce.length}`);
  image.set(part.nonce, at.nonce);
  return image;
}

/**
 * Complete a header from `encodeStaticHeader` with the sealed secret and the first slot.
 * @example
 * const image = finishImage(header, seal(deviceKey, nonce, sealAad(header), secret), first);
 */
export function finishImage(image: Uint8Array, sealed: Uint8Array, first: Persistent): Uint8Array {
  if (sealed.length !== image[at.secretLength]! + tagBytes) {
    throw new RangeError(`"sealed" expected ${image[at.secretLength]! + tagBytes} bytes, got ${sealed.length}`);
  }
  const out = image.slice();
  out.set(sealed, at.sealed);
  new DataView(out.buffer).setUint32(at.staticCrc, crc32(out, 0, at.staticCrc));
  writeSlotBytes(out, 0, { ...first, seq: 1 });
  return out;
}

function writeSlotBytes(image: Uint8Array, index: 0 | 1, state: Persistent): void {
  const base = slotOffsets[index];
  const bytes = new Uint8Array(slotBytes);
  const view = new DataView(bytes.buffer);
  view.setUint32(slot.seq, state.seq);
  bytes[slot.flags] = (state.pinSet ? 1 : 0) | (state.locked ? 2 : 0) | (state.blocked ? 4 : 0) | (state.mustSetPin ? 8 : 0);
  bytes[slot.wrongPins] = state.wrongPins;
  bytes[slot.unlockTries] = state.unlockTries;
  view.setBigUint64(slot.counter, BigInt(state.counter));
  if (state.pinCheck.length !== pinCheckBytes) throw new RangeError(`"pinCheck" expected ${pinCheckBytes} bytes, got ${state.pinCheck.length}`);
  bytes.set(state.pinCheck, slot.pinCheck);
  view.setUint32(slot.batteryUsed, state.batteryUsedOps);
  view.setUint32(slot.lockCode, state.lockCode);
  view.setUint32(slot.crc, crc32(bytes, 0, slot.crc));
  image.set(bytes, base);
}

/** Whether sequence number `a` is newer than `b` (serial-number arithmetic, RFC 1982, so wrap-around is harmless). */
function newer(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}

function readSlot(image: Uint8Array, index: 0 | 1): Persistent | undefined {
  const base = slotOffsets[index];
  const view = new DataView(image.buffer, image.byteOffset + base, slotBytes);
  if (crc32(image, base, base + slot.crc) !== view.getUint32(slot.crc)) return undefined;
  const flags = image[base + slot.flags]!;
  const counter = view.getBigUint64(slot.counter);
  if (counter > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return {
    seq: view.getUint32(slot.seq),
    pinSet: (flags & 1) !== 0,
    locked: (flags & 2) !== 0,
    blocked: (flags & 4) !== 0,
    mustSetPin: (flags & 8) !== 0,
    wrongPins: image[base + slot.wrongPins]!,
    unlockTries: image[base + slot.unlockTries]!,
    counter: Number(counter),
    pinCheck: image.slice(base + slot.pinCheck, base + slot.pinCheck + pinCheckBytes),
    batteryUsedOps: view.getUint32(slot.batteryUsed),
    lockCode: view.getUint32(slot.lockCode),
  };
}

export interface DecodedImage {
  readonly part: StaticPart;
  readonly state: Persistent;
  /** Which slot holds `state`; the next write goes to the other one. */
  readonly slot: 0 | 1;
}

/**
 * Decode an image: check the static block, pick the newer valid slot.
 * @example
 * decodeImage(image).state.wrongPins // 0
 */
export function decodeImage(image: Uint8Array): DecodedImage {
  if (!(image instanceof Uint8Array)) throw new TypeError('"image" expected Uint8Array');
  if (image.length !== memoryImageBytes) throw new MemoryImageError(`memory image expected ${memoryImageBytes} bytes, got ${image.length}`);
  for (let i = 0; i < magic.length; i++) {
    if (image[at.magic + i] !== magic[i]) throw new MemoryImageError('memory image does not start with "DSC+"');
  }
  if (image[at.version] !== layoutVersion) {
    throw new MemoryImageError(`memory image layout version ${image[at.version]} is not supported (expected ${layoutVersion})`);
  }
  const view = new DataView(image.buffer, image.byteOffset, image.length);
  if (crc32(image, 0, at.staticCrc) !== view.getUint32(at.staticCrc)) throw new MemoryImageError('memory image static block fails its CRC-32');
  const profileCode = image[at.profile];
  const profile = profileCode === 0 ? 'dscplus' : profileCode === 1 ? 'digipass' : undefined;
  if (!profile) throw new MemoryImageError(`memory image has unknown profile code ${profileCode}`);
  const suiteLength = image[at.suiteLength]!;
  const secretLength = image[at.secretLength]!;
  if (suiteLength > suiteCharsMax) throw new MemoryImageError(`memory image suite length ${suiteLength} exceeds ${suiteCharsMax}`);
  if (secretLength < secretBytesMin || secretLength > secretBytesMax) throw new MemoryImageError(`memory image secret length ${secretLength} is out of range`);
  const part: StaticPart = {
    profile,
    checkDigit: (image[at.flags]! & 1) !== 0,
    serial: view.getUint32(at.serial),
    suite: String.fromCharCode(...image.subarray(at.suite, at.suite + suiteLength)),
    secretLength,
    nonce: image.slice(at.nonce, at.nonce + nonceBytes),
    sealed: image.slice(at.sealed, at.sealed + secretLength + tagBytes),
  };
  const a = readSlot(image, 0);
  const b = readSlot(image, 1);
  if (!a && !b) throw new MemoryImageError('memory image has no valid state slot (both fail their CRC-32)');
  if (a && (!b || !newer(b.seq, a.seq))) return { part, state: a, slot: 0 };
  return { part, state: b!, slot: 1 };
}

/**
 * The image after committing `next`: written into the slot that does not hold the current state,
 * with the next sequence number. The input image is not modified.
 * @example
 * const { image, slot, state } = commit(old, decoded.slot, decoded.state.seq, { ...rest, wrongPins: 1 });
 */
export function commit(image: Uint8Array, current: 0 | 1, currentSeq: number, next: Omit<Persistent, 'seq'>): { image: Uint8Array; slot: 0 | 1; state: Persistent } {
  const target: 0 | 1 = current === 0 ? 1 : 0;
  const state: Persistent = { ...next, seq: (currentSeq + 1) >>> 0 };
  const out = image.slice();
  writeSlotBytes(out, target, state);
  return { image: out, slot: target, state };
}
