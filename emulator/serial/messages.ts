/**
 * The messages of the dscplus serial protocol (docs/serial-protocol.md) as tagged values, and the
 * protocol's bounds. The wire form lives in codec.ts; this file is the vocabulary both ends share.
 */

/** The protocol version this code speaks; a hello with another version is refused (error VERSION). */
export const protocolVersion = 2;
/** Sequence numbers count 0..999 and wrap, per sender: three digits keep lines short and readable. */
export const sequenceModulo = 1000;
/** The longest line accepted, in bytes, not counting the CR LF: longer lines are dropped whole (error LONG). */
export const lineBytesMax = 96;
/** The LCD is eight characters wide; a frame with a longer text is malformed. */
export const frameTextCharsMax = 8;
/** The free text of an error reply, in characters. */
export const errorTextCharsMax = 48;
/** Model, firmware version and serial number in a hello, in characters each. */
export const identityCharsMax = 16;
/** The largest frame number on the wire (32 bits, as a small microcontroller counts). */
export const frameNumberMax = 0xffff_ffff;
/** How often an unanswered hello is repeated, in milliseconds (a board that boots late still connects). */
export const helloRetryMs = 1_000;
/** Damaged lines answered with an ER per second; the rest are dropped unanswered, so junk cannot make an end talk faster than it. */
export const junkRepliesPerSecondMax = 10;
/** Bytes queued for a peer before the link stops reading the port until the peer has read half of them. */
export const sendQueuePauseBytes = 32_768;
/** The most bytes ever queued for a peer; a line that would pass it is not sent (its number is used: the peer sees a GAP). */
export const sendQueueBytesMax = 65_536;
/** The longest single time advance a virtual-clock card accepts in one TM line, in milliseconds. */
export const timeAdvanceMsMax = 3_600_000;

/** The key names on the wire: digits, OK, BACK (the ◄ key) and the round PRESS button. */
export const wireKeys = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'OK', 'BACK', 'PRESS'] as const;
export type WireKey = (typeof wireKeys)[number];

/** How a card keeps time: R, the real clock; V, a virtual clock that moves only on TM lines. */
export type ClockKind = 'real' | 'virtual';

/** Both ends introduce themselves with the same fields. */
export interface Identity {
  readonly version: number;
  readonly model: string;
  readonly firmware: string;
  readonly serial: string;
  readonly clock: ClockKind;
}

/**
 * Why a line was refused, as the three-to-seven letter code on an ER line. See the table in
 * docs/serial-protocol.md; GAP alone is informational (the line was accepted, earlier ones were lost).
 */
export const errorCodes = ['CRC', 'SYNTAX', 'TYPE', 'FIELD', 'LONG', 'VERSION', 'HELLO', 'DUP', 'STALE', 'GAP', 'CLOCK', 'ROLE'] as const;
export type ErrorCode = (typeof errorCodes)[number];

export type Message =
  | ({ readonly type: 'hello' } & Identity)
  | ({ readonly type: 'helloReply' } & Identity)
  | { readonly type: 'keyDown'; readonly key: WireKey }
  | { readonly type: 'keyUp'; readonly key: WireKey }
  | { readonly type: 'time'; readonly ms: number }
  | { readonly type: 'ack'; readonly ref: number; readonly frame: number }
  | { readonly type: 'frame'; readonly number: number; readonly text: string; readonly lowBattery: boolean; readonly locked: boolean }
  | { readonly type: 'error'; readonly ref: number | null; readonly code: ErrorCode; readonly text: string };

/** A decoded line: its sender's sequence number and the message. */
export interface Envelope {
  readonly seq: number;
  readonly message: Message;
}

/** A line that could not be decoded: the code to answer with, the sequence number when readable, and why. */
export interface LineError {
  readonly code: Extract<ErrorCode, 'CRC' | 'SYNTAX' | 'TYPE' | 'FIELD' | 'LONG'>;
  readonly seq: number | null;
  readonly detail: string;
}

export type Decoded = { readonly ok: true; readonly envelope: Envelope } | { readonly ok: false; readonly error: LineError };
