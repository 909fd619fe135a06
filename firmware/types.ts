/**
 * The firmware's vocabulary: keys, frames, events, effects and the named bounds.
 * Every shell (the card runtime, the Ink UI, the serial bridge, the tests) speaks these types.
 */

/** The keys of the card. `BACK` is the ◄ key; `PRESS` is the round power button. */
export const keys = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'OK', 'BACK', 'PRESS'] as const;
export type Key = (typeof keys)[number];
export type DigitKey = Exclude<Key, 'OK' | 'BACK' | 'PRESS'>;

export const profiles = ['dscplus', 'digipass'] as const;
/** `dscplus`: soft PIN mixed into the response. `digipass`: the card checks the PIN itself. */
export type Profile = (typeof profiles)[number];

/** The display is one line of this many characters; no frame is ever longer. */
export const lcdWidthChars = 8;
/** PINs are always this many digits (as the DSC+ is ordered). */
export const pinDigits = 4;
/** Holding PRESS this long powers the card on or off (or starts a PIN change, digipass at CHALLNG>). */
export const powerHoldMs = 2_000;
/** A short press as the headless commands and `CardSession.press` perform it. */
export const shortPressMs = 100;
/** Inactivity before the card powers itself off; a response stays on screen until then. */
export const idleTimeoutMs = 30_000;
/** How long a message such as `FAIL 1` or `NOT SAFE` shows before the next screen (any key ends it sooner). */
export const messageMs = 1_500;
/** Texts longer than the display are shown in turns of `lcdWidthChars`, each this long. */
export const turnMs = 2_000;
/** digipass: wrong PINs in a row before the card shows `LOCK PIN` and locks. */
export const wrongPinsMax = 5;
/** digipass: wrong unlock codes before the card blocks for good. */
export const unlockTriesMax = 3;
/** digipass: digits of the random lock code a locked card shows. */
export const lockCodeDigits = 7;
/** digipass: digits of the unlock code the server derives from the lock code. */
export const unlockCodeDigits = 8;
/** The battery budget: every power-on and every response costs one operation. */
export const batteryCapacityOps = 10_000;
/** The low-battery indicator lights at or under this many remaining operations. */
export const batteryLowOps = 1_000;
/** The persistent memory image is exactly this many bytes (the card's EEPROM). */
export const memoryImageBytes = 256;
/** Entropy bytes a keyDown event may carry (the lock code is drawn from them). */
export const entropyBytes = 4;

export interface Indicators {
  readonly lowBattery: boolean;
  readonly locked: boolean;
}

/** One state of the display. A new number whenever the text or the indicators change. */
export interface Frame {
  readonly number: number;
  /** At most `lcdWidthChars` characters; '' when the card is off. */
  readonly text: string;
  readonly indicators: Indicators;
  /** Clock time (virtual or real, ms) at which this frame appeared. */
  readonly atMs: number;
}

/** Inputs to the firmware. Time only ever arrives in events; `atMs` never goes backwards. */
export type CardEvent =
  /** `entropy`: fresh random bytes from the shell; required whenever a key can lock the card (digipass OK). */
  | { readonly type: 'keyDown'; readonly key: Key; readonly atMs: number; readonly entropy?: Uint8Array }
  | { readonly type: 'keyUp'; readonly key: Key; readonly atMs: number }
  /** Lets time pass: fires hold actions, message ends, turns and auto power-off due by `atMs`. */
  | { readonly type: 'tick'; readonly atMs: number }
  /** A fresh battery: the budget is full again; the stored state survives (it is in the memory image). */
  | { readonly type: 'batteryReplaced'; readonly atMs: number }
  /** Test and demo hook: the battery has this many operations left (a worn battery). */
  | { readonly type: 'batterySet'; readonly remainingOps: number; readonly atMs: number };

/** What the shell must carry out, in order; stop at the first that fails (a lost persist is a power loss). */
export type CardEffect =
  | { readonly type: 'display'; readonly frame: Frame }
  /** Write this whole memory image (only one 40-byte slot differs from the previous image). */
  | { readonly type: 'persist'; readonly image: Uint8Array; readonly reason: PersistReason };

export type PersistReason =
  | 'power on'
  | 'wrong-PIN counter before check'
  | 'PIN accepted'
  | 'locked'
  | 'unlock counter before check'
  | 'unlocked'
  | 'blocked'
  | 'new PIN'
  | 'counter before response'
  | 'response'
  | 'battery';

/** What a shell and a help screen may know about the card (never the secret or the PIN). */
export interface CardInfo {
  readonly serial: string;
  readonly model: string;
  readonly profile: Profile;
  readonly suite: string;
  readonly firmwareVersion: string;
  readonly checkDigit: boolean;
}

export const firmwareVersion = '1.0.0';
export const cardModel = 'DSC+';
