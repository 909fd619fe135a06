/**
 * Session logs: `dsc emulate --record FILE` writes every key event and every display frame, with
 * frame numbers, as NDJSON; `dsc press --replay FILE` plays the keys back on the virtual clock, headless,
 * and checks that the firmware draws the same frames. A manual session becomes a regression test.
 *
 * The log is self-contained: its first line holds the device record as it was when the session opened
 * (so the replay starts from the same memory image, and never touches the device file), and the
 * random bytes each key-down drew (so a digipass lock code replays identically). The keys typed are
 * in the log, PIN included: record sessions of demo or test devices only.
 *
 * Format, one JSON object per line:
 *   {"type":"start","format":"dscplus-session","version":1,"atMs":…,"device":{…record…},"frame":{…}}
 *   {"type":"entropy","hex":"…"}                      random bytes the next key-down draws
 *   {"type":"key","event":"down"|"up","key":"5","atMs":…,"frame":12}
 *   {"type":"frame","number":12,"text":"PIN>","indicators":{…},"atMs":…}
 *   {"type":"end","atMs":…}
 */
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { openCardFromRecord, type CardSession } from './card.ts';
import { parseDeviceRecord, DeviceRecordError, type DeviceRecord } from '../firmware/device-record.ts';
import { keys, lcdWidthChars, type Frame, type Key } from '../firmware/types.ts';
import { describe } from '../firmware/assert.ts';

export const sessionLogFormat = 'dscplus-session';
export const sessionLogVersion = 1;
/** A log is read whole; a manual session is a few thousand lines, far under this. */
export const sessionLogBytesMax = 16 * 1024 * 1024;
/** Replays report at most this many mismatches (the first one is usually the one that matters). */
export const mismatchesMax = 20;

export type LogLine =
  | { readonly type: 'start'; readonly format: string; readonly version: number; readonly atMs: number; readonly device: DeviceRecord; readonly frame: Frame }
  | { readonly type: 'entropy'; readonly hex: string }
  | { readonly type: 'key'; readonly event: 'down' | 'up'; readonly key: Key; readonly atMs: number; readonly frame: number }
  | ({ readonly type: 'frame' } & Frame)
  | { readonly type: 'end'; readonly atMs: number };

/**
 * The session log cannot be used; the message names the file, the line and what is wrong.
 * @example
 * throw new SessionLogError('session log "s.ndjson" line 2: not JSON: …');
 */
export class SessionLogError extends Error {
  override name = 'SessionLogError';
}

/**
 * Writes a session log as the session runs, one line per event, flushed as it goes (a crash keeps
 * everything up to the crash).
 * @example
 * const recorder = SessionRecorder.create('session.ndjson', record, random);
 * const session = openCardFromRecord(record, { clock: 'real', random: recorder.random });
 * recorder.attach(session); // frames; the KeyDriver's onKey hook calls recorder.key(…)
 */
export class SessionRecorder {
  #fd: number | undefined;
  #unsubscribe: (() => void) | undefined;

  private constructor(
    fd: number,
    private readonly device: DeviceRecord,
    private readonly source: (bytes: number) => Uint8Array,
  ) {
    this.#fd = fd;
  }

  /**
   * Create `path` with owner-only permissions (the log holds the keys typed). An existing file is
   * never overwritten: it may be a recorded session someone keeps as a regression test.
   */
  static create(path: string, device: DeviceRecord, random: (bytes: number) => Uint8Array): SessionRecorder {
    try {
      return new SessionRecorder(openSync(path, 'wx', 0o600), device, random);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new SessionLogError(
        code === 'EEXIST' ? `session log ${JSON.stringify(path)} already exists (not overwritten)` : `session log ${JSON.stringify(path)} cannot be created: ${(error as Error).message}`,
      );
    }
  }

  #write(line: LogLine): void {
    if (this.#fd !== undefined) writeSync(this.#fd, `${JSON.stringify(line)}\n`);
  }

  /** The random source to hand the session: it draws from the real one and logs what it drew. */
  readonly random = (bytes: number): Uint8Array => {
    const drawn = this.source(bytes);
    this.#write({ type: 'entropy', hex: bytesToHex(drawn) });
    return drawn;
  };

  /** Write the start line and follow the session's frames. */
  attach(session: CardSession): void {
    this.#write({ type: 'start', format: sessionLogFormat, version: sessionLogVersion, atMs: session.nowMs, device: this.device, frame: session.frame });
    this.#unsubscribe = session.onFrame((next) => this.#write({ type: 'frame', ...next }));
  }

  /** A key event at `atMs` (the card's clock when it took the key) and the frame it produced. */
  key(event: 'down' | 'up', key: Key, frame: Frame, atMs: number): void {
    this.#write({ type: 'key', event, key, atMs, frame: frame.number });
  }

  close(atMs: number): void {
    this.#unsubscribe?.();
    this.#write({ type: 'end', atMs });
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function checkFrame(value: unknown): value is Frame {
  const frame = value as Partial<Frame> | null;
  return (
    typeof frame === 'object' &&
    frame !== null &&
    Number.isSafeInteger(frame.number) &&
    typeof frame.text === 'string' &&
    frame.text.length <= lcdWidthChars &&
    typeof frame.indicators?.lowBattery === 'boolean' &&
    typeof frame.indicators?.locked === 'boolean' &&
    finite(frame.atMs)
  );
}

/** Parse and validate one line; throws SessionLogError naming what is wrong. */
function parseLine(text: string, where: string): LogLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SessionLogError(`${where}: not JSON: ${(error as Error).message}`);
  }
  const line = json as Record<string, unknown> | null;
  if (typeof line !== 'object' || line === null) throw new SessionLogError(`${where}: expected a JSON object, got ${describe(json)}`);
  switch (line.type) {
    case 'start': {
      if (line.format !== sessionLogFormat) throw new SessionLogError(`${where}: "format" expected ${JSON.stringify(sessionLogFormat)}, got ${describe(line.format)}`);
      if (line.version !== sessionLogVersion) throw new SessionLogError(`${where}: "version" expected ${sessionLogVersion}, got ${describe(line.version)}`);
      if (!finite(line.atMs)) throw new SessionLogError(`${where}: "atMs" expected a number, got ${describe(line.atMs)}`);
      if (!checkFrame(line.frame)) throw new SessionLogError(`${where}: "frame" is not a display frame`);
      let device: DeviceRecord;
      try {
        device = parseDeviceRecord(line.device);
      } catch (error) {
        if (error instanceof DeviceRecordError) throw new SessionLogError(`${where}: "device": ${error.message}`);
        throw error;
      }
      return { type: 'start', format: sessionLogFormat, version: sessionLogVersion, atMs: line.atMs, device, frame: line.frame };
    }
    case 'entropy':
      if (typeof line.hex !== 'string' || !/^([0-9a-f]{2})+$/.test(line.hex)) throw new SessionLogError(`${where}: "hex" expected lower-case hex, got ${describe(line.hex)}`);
      return { type: 'entropy', hex: line.hex };
    case 'key':
      if (line.event !== 'down' && line.event !== 'up') throw new SessionLogError(`${where}: "event" expected "down" or "up", got ${describe(line.event)}`);
      if (!(keys as readonly unknown[]).includes(line.key)) throw new SessionLogError(`${where}: "key" expected one of ${keys.join(' ')}, got ${describe(line.key)}`);
      if (!finite(line.atMs)) throw new SessionLogError(`${where}: "atMs" expected a number, got ${describe(line.atMs)}`);
      if (!Number.isSafeInteger(line.frame)) throw new SessionLogError(`${where}: "frame" expected a frame number, got ${describe(line.frame)}`);
      return { type: 'key', event: line.event, key: line.key as Key, atMs: line.atMs, frame: line.frame as number };
    case 'frame': {
      const { type: _type, ...frame } = line;
      if (!checkFrame(frame)) throw new SessionLogError(`${where}: not a display frame (number, text of at most ${lcdWidthChars} characters, indicators, atMs)`);
      return { type: 'frame', ...frame };
    }
    case 'end':
      if (!finite(line.atMs)) throw new SessionLogError(`${where}: "atMs" expected a number, got ${describe(line.atMs)}`);
      return { type: 'end', atMs: line.atMs };
    default:
      throw new SessionLogError(`${where}: "type" expected start, entropy, key, frame or end, got ${describe(line.type)}`);
  }
}

/**
 * Parse a whole session log (text); the first line must be the start line.
 * @example
 * const lines = parseSessionLog(readFileSync('session.ndjson', 'utf8'), 'session.ndjson');
 */
export function parseSessionLog(text: string, name = 'session log'): LogLine[] {
  const lines: LogLine[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    lines.push(parseLine(raw, `${name} line ${index + 1}`));
  });
  if (lines[0]?.type !== 'start') throw new SessionLogError(`${name}: the first line must be the "start" line`);
  if (lines.slice(1).some((line) => line.type === 'start')) throw new SessionLogError(`${name}: more than one "start" line`);
  return lines;
}

export interface ReplayResult {
  readonly ok: boolean;
  readonly keys: number;
  readonly frames: number;
  /** What differed, in order, at most `mismatchesMax`. */
  readonly mismatches: readonly string[];
}

function describeFrame(frame: Frame): string {
  const marks = [frame.indicators.lowBattery ? 'low battery' : '', frame.indicators.locked ? 'locked' : ''].filter(Boolean);
  return `#${frame.number} ${JSON.stringify(frame.text)}${marks.length > 0 ? ` (${marks.join(', ')})` : ''}`;
}

function sameFrame(a: Frame, b: Frame): boolean {
  // Times are not compared: a recorded real-clock timer fires a few ms after its deadline.
  return a.number === b.number && a.text === b.text && a.indicators.lowBattery === b.indicators.lowBattery && a.indicators.locked === b.indicators.locked;
}

/**
 * Play a parsed log back on the virtual clock and compare every frame (number, text, indicators).
 * @example
 * const result = replaySessionLog(parseSessionLog(text));
 * result.ok // true when the firmware drew exactly the recorded frames
 */
export function replaySessionLog(lines: readonly LogLine[]): ReplayResult {
  const start = lines[0];
  if (start?.type !== 'start') throw new SessionLogError('session log: the first line must be the "start" line');
  const entropy: Uint8Array[] = [];
  const random = (bytes: number): Uint8Array => {
    const next = entropy.shift();
    // A log without the bytes (or a firmware that now draws more) still replays; a lock code may differ.
    return next && next.length === bytes ? next : new Uint8Array(bytes);
  };
  const session = openCardFromRecord(start.device, { clock: 'virtual', startMs: start.atMs, random });
  const seen: Frame[] = [];
  session.onFrame((frame) => seen.push(frame));
  const expected: Frame[] = [];
  const mismatches: string[] = [];
  const mismatch = (text: string) => {
    if (mismatches.length < mismatchesMax) mismatches.push(text);
  };
  if (!sameFrame(session.frame, start.frame)) mismatch(`start: recorded ${describeFrame(start.frame)}, replay ${describeFrame(session.frame)}`);
  let keyCount = 0;
  const advanceTo = (atMs: number) => {
    const ms = Math.round(atMs - session.nowMs);
    if (ms > 0) session.advance(ms);
  };
  try {
    for (const line of lines.slice(1)) {
      switch (line.type) {
        case 'start':
          throw new SessionLogError('session log: more than one "start" line');
        case 'entropy':
          entropy.push(hexToBytes(line.hex));
          break;
        case 'key': {
          keyCount++;
          advanceTo(line.atMs);
          const frame = line.event === 'down' ? session.keyDown(line.key) : session.keyUp(line.key);
          if (frame.number !== line.frame) mismatch(`key ${keyCount} (${line.key} ${line.event}): recorded frame #${line.frame}, replay ${describeFrame(frame)}`);
          break;
        }
        case 'frame': {
          const { type: _type, ...frame } = line;
          expected.push(frame);
          break;
        }
        case 'end':
          advanceTo(line.atMs);
          break;
        default:
          throw new TypeError(`unexpected log line ${describe((line as { type?: unknown }).type)}`);
      }
    }
  } finally {
    session.close();
  }
  const count = Math.max(expected.length, seen.length);
  for (let i = 0; i < count; i++) {
    const want = expected[i];
    const got = seen[i];
    if (want && got && sameFrame(want, got)) continue;
    mismatch(`frame ${i + 1}: recorded ${want ? describeFrame(want) : '(none)'}, replay ${got ? describeFrame(got) : '(none)'}`);
  }
  return { ok: mismatches.length === 0, keys: keyCount, frames: expected.length, mismatches };
}

/** The whole log, refusing a file larger than `sessionLogBytesMax` before reading it. */
export function readSessionLogText(path: string): string {
  try {
    const size = statSync(path).size;
    if (size > sessionLogBytesMax) throw new SessionLogError(`session log ${JSON.stringify(path)} is ${size} bytes, more than ${sessionLogBytesMax}`);
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof SessionLogError) throw error;
    throw new SessionLogError(`session log ${JSON.stringify(path)} cannot be read: ${(error as Error).message}`);
  }
}

/**
 * Replay a log file and print the verdict: 0 when every frame matched, 1 when not; a log that
 * cannot be used throws SessionLogError (for the command to report, exit 2).
 * @example
 * process.exitCode = runReplay('session.ndjson', process.stdout);
 */
export function runReplay(path: string, out: NodeJS.WritableStream): number {
  const text = readSessionLogText(path);
  const result = replaySessionLog(parseSessionLog(text, `session log ${JSON.stringify(path)}`));
  if (result.ok) {
    out.write(`replay ok: ${result.keys} key events, ${result.frames} frames matched\n`);
    return 0;
  }
  out.write(`replay FAILED: ${result.mismatches.length} mismatch(es) in ${result.keys} key events, ${result.frames} frames\n`);
  for (const line of result.mismatches) out.write(`  ${line}\n`);
  return 1;
}
