/**
 * The device file: what a provisioned card is on disk. It stands for both the physical card (its memory
 * image, and the device key fused into its chip) and the factory's enrolment sheet (serial, profile, suite,
 * the PIN chosen at ordering, sealed), so the host can enrol the same file. Pure: JSON in, checked values out.
 *
 *   { "format": "dscplus-device", "version": 1, "serial": "40417265", "model": "DSC+",
 *     "profile": "dscplus", "suite": "OCRA-1:HOTP-SHA1-8:QN06-PSHA1", "checkDigit": false,
 *     "deviceKey": "<64 hex>", "image": "<512 hex>", "orderPin": "<hex>" (optional), "clockMs": 1763900000000 }
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe } from './assert.ts';
import { cardSuite } from './card-suite.ts';
import { decodeImage, MemoryImageError, nonceBytes, sealAad, tagBytes, type DecodedImage } from './memory.ts';
import { deviceKeyBytes, unseal } from './seal.ts';
import { cardModel, memoryImageBytes, pinDigits, profiles, type Profile } from './types.ts';

export const deviceFileFormat = 'dscplus-device';
export const deviceFileVersion = 1;
/** Serial numbers are stored as a 32-bit number in the image. */
export const serialMax = 0xffff_ffff;

export interface DeviceRecord {
  readonly format: typeof deviceFileFormat;
  readonly version: typeof deviceFileVersion;
  readonly serial: string;
  readonly model: string;
  readonly profile: Profile;
  readonly suite: string;
  readonly checkDigit: boolean;
  /** Hex; stands for the key fused into the card's chip. */
  readonly deviceKey: string;
  /** Hex of the 256-byte memory image. */
  readonly image: string;
  /** Hex: nonce ‖ XChaCha20-Poly1305(PIN chosen at ordering), for the host; absent when none was chosen. */
  readonly orderPin?: string;
  /** The card's clock (ms since the Unix epoch) when it was last used headless; the virtual clock resumes here. */
  readonly clockMs: number;
}

/** The device file's JSON is not a usable device record; the message names the field. */
export class DeviceRecordError extends Error {
  override name = 'DeviceRecordError';
}

export interface EnrolmentData {
  readonly serial: string;
  readonly model: string;
  readonly profile: Profile;
  readonly suite: string;
  /** The OCRA secret in the clear: the caller wipes it (`fill(0)`) after use. */
  readonly secret: Uint8Array;
  readonly pin?: string;
  readonly checkDigit: boolean;
}

const fail = (message: string): never => {
  throw new DeviceRecordError(message);
};

function hexField(json: Record<string, unknown>, name: string, bytes?: number): Uint8Array {
  const value = json[name];
  // The device key is a secret: its value is never quoted in a message, only its shape.
  const shown = name === 'deviceKey' ? (typeof value === 'string' ? `${value.length} characters` : typeof value) : describe(value);
  if (typeof value !== 'string' || !/^([0-9a-f]{2})*$/.test(value)) fail(`"${name}" expected lower-case hex, got ${shown}`);
  if (bytes !== undefined && (value as string).length !== 2 * bytes) fail(`"${name}" expected ${bytes} bytes of hex, got ${(value as string).length / 2}`);
  return hexToBytes(value as string);
}

/**
 * Validate a device file's parsed JSON. Throws DeviceRecordError naming the bad field; never returns a
 * record whose image does not decode or disagrees with its fields.
 * @example
 * const record = parseDeviceRecord(JSON.parse(readFileSync('card.json', 'utf8')));
 */
export function parseDeviceRecord(json: unknown): DeviceRecord {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail(`device record expected a JSON object, got ${describe(json)}`);
  const o = json as Record<string, unknown>;
  if (o.format !== deviceFileFormat) fail(`"format" expected "${deviceFileFormat}", got ${describe(o.format)}`);
  if (o.version !== deviceFileVersion) fail(`"version" ${describe(o.version)} is not supported (this dsc reads version ${deviceFileVersion})`);
  if (typeof o.serial !== 'string' || !/^(0|[1-9][0-9]{0,9})$/.test(o.serial) || Number(o.serial) > serialMax) {
    fail(`"serial" expected a decimal number up to ${serialMax}, got ${describe(o.serial)}`);
  }
  if (o.model !== cardModel) fail(`"model" expected "${cardModel}", got ${describe(o.model)}`);
  if (typeof o.profile !== 'string' || !(profiles as readonly string[]).includes(o.profile)) fail(`"profile" expected ${profiles.join(' or ')}, got ${describe(o.profile)}`);
  if (typeof o.suite !== 'string') fail(`"suite" expected a string, got ${describe(o.suite)}`);
  try {
    cardSuite(o.suite as string, o.profile as Profile);
  } catch (error) {
    fail((error as Error).message);
  }
  if (typeof o.checkDigit !== 'boolean') fail(`"checkDigit" expected true or false, got ${describe(o.checkDigit)}`);
  if (typeof o.clockMs !== 'number' || !Number.isSafeInteger(o.clockMs) || o.clockMs < 0) fail(`"clockMs" expected a non-negative integer, got ${describe(o.clockMs)}`);
  const deviceKey = hexField(o, 'deviceKey', deviceKeyBytes);
  const image = hexField(o, 'image', memoryImageBytes);
  if (o.orderPin !== undefined) {
    const sealedPin = hexField(o, 'orderPin', nonceBytes + pinDigits + tagBytes);
    sealedPin.fill(0);
  }
  let decoded: DecodedImage;
  try {
    decoded = decodeImage(image);
  } catch (error) {
    if (error instanceof MemoryImageError) return fail(`"image": ${error.message}`);
    throw error;
  }
  const { part } = decoded;
  const mismatch = (field: string, inImage: unknown) => fail(`"${field}" ${describe(o[field])} disagrees with the memory image (${describe(inImage)})`);
  if (String(part.serial) !== o.serial) mismatch('serial', String(part.serial));
  if (part.profile !== o.profile) mismatch('profile', part.profile);
  if (part.suite !== o.suite) mismatch('suite', part.suite);
  if (part.checkDigit !== o.checkDigit) mismatch('checkDigit', part.checkDigit);
  try {
    unseal(deviceKey, part.nonce, sealAad(image), part.sealed).fill(0);
  } catch (error) {
    if (error instanceof MemoryImageError) fail(`"deviceKey" does not open the image's sealed secret (wrong key, or the image was altered)`);
    throw error;
  } finally {
    deviceKey.fill(0);
  }
  const record: DeviceRecord = {
    format: deviceFileFormat,
    version: deviceFileVersion,
    serial: o.serial as string,
    model: cardModel,
    profile: o.profile as Profile,
    suite: o.suite as string,
    checkDigit: o.checkDigit as boolean,
    deviceKey: o.deviceKey as string,
    image: o.image as string,
    clockMs: o.clockMs as number,
    ...(o.orderPin !== undefined && { orderPin: o.orderPin as string }),
  };
  return record;
}

/**
 * The AEAD associated data of the sealed ordering PIN: binds it to the card's serial.
 * @example
 * orderPinAad('40417265') // bytes of "dscplus-order-pin:40417265"
 */
export function orderPinAad(serial: string): Uint8Array {
  return new TextEncoder().encode(`dscplus-order-pin:${serial}`);
}

/**
 * Decode a record's image bytes (the record was validated by `parseDeviceRecord`).
 * @example
 * decodeImage(recordImage(record)).state.counter // 0
 */
export function recordImage(record: DeviceRecord): Uint8Array {
  return hexToBytes(record.image);
}

/**
 * The device key bytes; the caller wipes them.
 * @example
 * const key = recordDeviceKey(record); try { … } finally { key.fill(0); }
 */
export function recordDeviceKey(record: DeviceRecord): Uint8Array {
  return hexToBytes(record.deviceKey);
}

/**
 * What the login server needs to enrol the card: unseals the secret and the ordering PIN.
 * @example
 * const data = enrolmentData(record);
 * try { host.enroll(...) } finally { data.secret.fill(0); }
 */
export function enrolmentData(record: DeviceRecord): EnrolmentData {
  const image = recordImage(record);
  const deviceKey = recordDeviceKey(record);
  try {
    const { part } = decodeImage(image);
    const secret = unseal(deviceKey, part.nonce, sealAad(image), part.sealed);
    let pin: string | undefined;
    if (record.orderPin !== undefined) {
      const sealedPin = hexToBytes(record.orderPin);
      const pinBytes = unseal(deviceKey, sealedPin.slice(0, nonceBytes), orderPinAad(record.serial), sealedPin.slice(nonceBytes));
      pin = new TextDecoder().decode(pinBytes);
      pinBytes.fill(0);
    }
    return {
      serial: record.serial,
      model: record.model,
      profile: record.profile,
      suite: record.suite,
      secret,
      checkDigit: record.checkDigit,
      ...(pin !== undefined && { pin }),
    };
  } finally {
    deviceKey.fill(0);
  }
}

/**
 * The record as the device file's text (stable key order, one trailing newline).
 * @example
 * writeFileSync('card.json', serializeDeviceRecord(record));
 */
export function serializeDeviceRecord(record: DeviceRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/**
 * A record with a new image (hex) and clock.
 * @example
 * const next = withImage(record, effect.image, state.nowMs);
 */
export function withImage(record: DeviceRecord, image: Uint8Array, clockMs: number): DeviceRecord {
  return { ...record, image: bytesToHex(image), clockMs };
}
