/** What the verifier's callers see: inputs, results and device descriptions (no behaviour here). */
import type { Session } from './session.ts';
import type { ChallengePurpose, DeviceKind, DeviceProfile } from './store.ts';

export type VerifyReason =
  | 'unknown user' | 'unknown challenge' | 'expired' | 'already used' | 'attempts exhausted' | 'locked'
  | 'throttled' | 'malformed response' | 'wrong response' | 'limit exceeded' | 'wrong purpose' | 'device inactive';

export interface VerifyInput {
  readonly user: string;
  readonly challenge: string;
  /** A secret: from stdin or a prompt, never a command-line argument. */
  readonly response: string;
  /** What the caller is about to allow: an answer to a challenge issued for anything else is refused. */
  readonly purpose: ChallengePurpose;
}

export type VerifyResult =
  | { ok: true; serial: string; purpose: ChallengePurpose; amountUsd?: number; session?: Session }
  | { ok: false; reason: VerifyReason; serial?: string; retryAfterMs?: number; locked?: boolean };

export interface EnrolKeyInput {
  readonly user?: string;
  readonly serial: string;
  readonly model?: string;
  readonly profile: 'dscplus' | 'digipass';
  readonly suite: string;
  /** Wiped by the caller after `enroll` returns. */
  readonly secret: Uint8Array;
  readonly pin?: string;
  readonly checkDigit?: boolean;
  readonly kind?: DeviceKind;
  readonly counter?: number;
}

export interface DeviceInfo {
  readonly serial: string;
  readonly kind: DeviceKind;
  readonly profile: DeviceProfile;
  readonly suite: string;
  readonly model: string;
  readonly active: boolean;
  readonly locked: boolean;
  readonly failures: number;
  readonly checkDigit: boolean;
  readonly expiresMs: number | null;
  readonly users: string[];
}

export interface Issued {
  readonly challenge: string;
  readonly serial: string;
  readonly expiresAtMs: number;
  /** Security Code Card: the two card positions asked (1-based). */
  readonly indexes?: readonly [number, number];
}

export interface ExportedKey {
  readonly serial: string;
  readonly model: string;
  readonly profile: DeviceProfile;
  readonly suite: string;
  readonly checkDigit: boolean;
  readonly counter: number;
  /** The caller wipes it. */
  readonly secret: Uint8Array;
  readonly kind: DeviceKind;
  /** The PIN chosen at ordering (or set since), when the host holds one. */
  readonly pin?: string;
  /** Users the device is assigned to. */
  readonly users: readonly string[];
  readonly enrolledMs: number;
  readonly expiresMs: number | null;
}
