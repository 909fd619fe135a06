/**
 * Provisioning, the factory's job: build a device record from chosen values and handed-in randomness.
 * Pure: the shell (cli/provision.ts, emulator/card.ts) supplies the random bytes and the clock.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { assertBytes, assertInteger, describe } from './assert.ts';
import { cardSuite, defaultSuites } from './card-suite.ts';
import { cardModel, type Profile } from './types.ts';
import { checkPin } from './pin.ts';
import { deviceFileFormat, deviceFileVersion, orderPinAad, serialMax, type DeviceRecord } from './device-record.ts';
import { encodeStaticHeader, finishImage, nonceBytes, pinCheckBytes, sealAad, secretBytesMax, secretBytesMin } from './memory.ts';
import { deviceKeyBytes, pinCheckValue, seal } from './seal.ts';

export interface ProvisionInput {
  readonly profile: Profile;
  /** Defaults to the profile's default suite. */
  readonly suite?: string;
  readonly serial: number;
  readonly secret: Uint8Array;
  /** The PIN chosen at ordering: sealed in the record for the host; for digipass also the card's first PIN. */
  readonly pin?: string;
  readonly checkDigit: boolean;
  readonly deviceKey: Uint8Array;
  /** 24 random bytes for sealing the secret, and 24 more for the ordering PIN. */
  readonly nonce: Uint8Array;
  readonly pinNonce: Uint8Array;
  readonly clockMs: number;
}

/**
 * @example
 * provisionRecord({ profile: 'dscplus', serial: 40417265, secret, pin: '1234', checkDigit: false,
 *   deviceKey, nonce, pinNonce, clockMs: Date.UTC(2026, 0, 1) }).serial // '40417265'
 */
export function provisionRecord(input: ProvisionInput): DeviceRecord {
  const suite = input.suite ?? defaultSuites[input.profile];
  cardSuite(suite, input.profile);
  assertInteger('serial', input.serial, 0, serialMax);
  assertBytes('secret', input.secret);
  if (input.secret.length < secretBytesMin || input.secret.length > secretBytesMax) {
    throw new RangeError(`"secret" expected ${secretBytesMin}..${secretBytesMax} bytes, got ${input.secret.length}`);
  }
  if (input.pin !== undefined) checkPin('"pin"', input.pin);
  assertBytes('deviceKey', input.deviceKey, deviceKeyBytes);
  assertBytes('nonce', input.nonce, nonceBytes);
  assertBytes('pinNonce', input.pinNonce, nonceBytes);
  assertInteger('clockMs', input.clockMs, 0, Number.MAX_SAFE_INTEGER);

  const header = encodeStaticHeader({
    profile: input.profile,
    checkDigit: input.checkDigit,
    serial: input.serial,
    suite,
    secretLength: input.secret.length,
    nonce: input.nonce,
  });
  const sealed = seal(input.deviceKey, input.nonce, sealAad(header), input.secret);
  const digipassPin = input.profile === 'digipass' ? input.pin : undefined;
  const image = finishImage(header, sealed, {
    seq: 1,
    pinSet: digipassPin !== undefined,
    locked: false,
    blocked: false,
    // A digipass card ordered without a PIN asks for one at first use (INIT PIN on VASCO units).
    mustSetPin: input.profile === 'digipass' && digipassPin === undefined,
    wrongPins: 0,
    unlockTries: 0,
    counter: 0,
    pinCheck: digipassPin !== undefined ? pinCheckValue(input.deviceKey, input.serial, digipassPin) : new Uint8Array(pinCheckBytes),
    batteryUsedOps: 0,
    lockCode: 0,
  });
  const serial = String(input.serial);
  let orderPin: string | undefined;
  if (input.pin !== undefined) {
    const sealedPin = seal(input.deviceKey, input.pinNonce, orderPinAad(serial), new TextEncoder().encode(input.pin));
    orderPin = bytesToHex(input.pinNonce) + bytesToHex(sealedPin);
  }
  return {
    format: deviceFileFormat,
    version: deviceFileVersion,
    serial,
    model: cardModel,
    profile: input.profile,
    suite,
    checkDigit: input.checkDigit,
    deviceKey: bytesToHex(input.deviceKey),
    image: bytesToHex(image),
    ...(orderPin !== undefined && { orderPin }),
    clockMs: input.clockMs,
  };
}
