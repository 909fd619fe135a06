/** What a PSKC (RFC 6030) key is once read: shared by the reader, the writer and the import/export use-cases. */
export const pskcNamespace = 'urn:ietf:params:xml:ns:keyprov:pskc';
/** The OCRA algorithm URN of NagraID, multiOTP and LinOTP files: the writer's default. */
export const ocraUrn = `${pskcNamespace}:ocra`;
/** libpskc's spelling, written on request (`--pskc-algorithm ocra-1`). */
export const ocraFragment = `${pskcNamespace}#OCRA-1`;
/** The algorithm the writer uses unless told otherwise. */
export const ocraAlgorithm = ocraUrn;
/** RFC 6030 §10.2's PIN algorithm profile: the key's secret is the PIN. */
export const pinAlgorithm = `${pskcNamespace}:pin`;
export const pskcKeysMax = 10_000;

export class PskcError extends Error {
  override name = 'PskcError';
}

/** A problem with one key of a container: the key and the field are named, never a secret's value. */
export class PskcKeyError extends PskcError {
  constructor(readonly keyId: string, readonly field: string, reason: string) {
    super(`key ${JSON.stringify(keyId)} ${field}: ${reason}`);
  }
}

export type PinUsageMode = 'Local' | 'Prepend' | 'Append' | 'Algorithmic';

/** RFC 6030 §5 PINPolicy: how the key's PIN is used, and (with `pin`) the PIN from the PIN key it points to. */
export interface PinPolicy {
  readonly usage: PinUsageMode;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly maxFailedAttempts?: number;
  readonly encoding?: string;
}

export interface PskcKey {
  readonly id: string;
  readonly algorithm: string;
  /** The OCRA suite, for OCRA keys. */
  readonly suite?: string;
  readonly serial?: string;
  readonly manufacturer?: string;
  readonly model?: string;
  readonly issuer?: string;
  /** Key/UserId, else DeviceInfo/UserId. */
  readonly userId?: string;
  /** Policy/KeyUsage values (`CR` for challenge/response keys). */
  readonly keyUsage?: readonly string[];
  /** Policy/StartDate and ExpiryDate, as the xs:dateTime text. */
  readonly startDate?: string;
  readonly expiryDate?: string;
  /** The key in the clear: the caller wipes it. */
  readonly secret: Uint8Array;
  readonly counter?: number;
  /** Data/TimeInterval in seconds (time suites). */
  readonly timeInterval?: number;
  readonly responseLength?: number;
  readonly checkDigits?: boolean;
  readonly challengeMin?: number;
  readonly challengeMax?: number;
  readonly pinPolicy?: PinPolicy;
  /** The PIN from the PIN key that `Policy/PINPolicy PINKeyId` points to. */
  readonly pin?: string;
}

export interface PskcDecryptKeys {
  /** The pre-shared AES key (RFC 6030 §6.1). */
  readonly presharedKey?: Uint8Array;
  /** The password for a PBKDF2-derived key (§6.2). */
  readonly password?: string;
  /** Accept CBC-encrypted values without a MAC (RFC 6030 §6.1.1 makes the MAC a MUST for CBC). */
  readonly allowNoMac?: boolean;
}

export function isOcra(key: PskcKey): boolean {
  return key.suite !== undefined;
}
