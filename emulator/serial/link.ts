/**
 * One end of a serial link: writes numbered, checksummed lines and reads the other end's lines,
 * applying the rules both ends share (docs/serial-protocol.md §Rules): answer every damaged line
 * with an error, never answer an error, refuse a hello of another version, refuse everything but a
 * hello until the ends have greeted each other, drop repeated and stale lines, report lost ones.
 * What a line *means* is left to the role: the card (card-link.ts) or the panel (panel-link.ts).
 */
import type { Duplex } from 'node:stream';
import { encodeLine, helloOf } from './codec.ts';
import { LineParser } from './line-parser.ts';
import {
  helloRetryMs,
  junkRepliesPerSecondMax,
  protocolVersion,
  sendQueueBytesMax,
  sendQueuePauseBytes,
  type Decoded, type Envelope, type ErrorCode, type Identity, type Message } from './messages.ts';
import { judgeSequence, nextSeq } from './sequence.ts';

/** Something the link noticed, for logs and for the conformance report. */
export type LinkEvent =
  | { readonly type: 'sent'; readonly line: string }
  | { readonly type: 'received'; readonly envelope: Envelope }
  /** A line from the other end was refused; we answered with this error. */
  | { readonly type: 'refused'; readonly code: ErrorCode; readonly seq: number | null; readonly detail: string }
  /** The other end sent us an error line. */
  | { readonly type: 'peerError'; readonly seq: number; readonly code: ErrorCode; readonly ref: number | null; readonly text: string }
  | { readonly type: 'connected'; readonly peer: Identity }
  /** Output is held back: `reason` says whether reading paused, a line was dropped, or junk went unanswered. */
  | { readonly type: 'throttled'; readonly reason: 'paused' | 'resumed' | 'dropped' | 'unanswered'; readonly queuedBytes: number };

/** How often a paused link looks whether its peer has read enough to go on, in milliseconds. */
const pausedPollMs = 5;

/** Refusals of lines that did not even parse (or came before a hello): answered within junkRepliesPerSecondMax. */
const junkCodes: ReadonlySet<ErrorCode> = new Set(['CRC', 'SYNTAX', 'TYPE', 'FIELD', 'LONG', 'HELLO']);

export interface LinkOptions {
  readonly identity: Omit<Identity, 'version'>;
  /** The protocol version announced in hellos; only tests of the VERSION refusal change it. */
  readonly version?: number;
  /** The clock of the junk-reply rate limit; defaults to Date.now. */
  readonly now?: () => number;
}

/**
 * The shared rules of both ends; subclasses give lines their meaning.
 * @example
 * class Echo extends Link { protected connected() {} protected handle(e: Envelope) { console.log(e.message); } }
 */
export abstract class Link {
  readonly #stream: Duplex;
  readonly #parser: LineParser;
  readonly #identity: Omit<Identity, 'version'>;
  readonly #version: number;
  #seq = 0;
  #peerLastSeq: number | null = null;
  #peer: Identity | null = null;
  readonly #listeners = new Set<(event: LinkEvent) => void>();
  readonly #now: () => number;
  #junkWindowStartMs = Number.NEGATIVE_INFINITY;
  #junkRepliesInWindow = 0;
  #readingPaused = false;
  #helloTimer: NodeJS.Timeout | undefined;
  #queueTimer: NodeJS.Timeout | undefined;
  readonly #onData = (chunk: Buffer | string) => this.#parser.write(chunk);
  readonly #onDrain = () => this.#resumeReading();

  constructor(stream: Duplex, options: LinkOptions) {
    this.#stream = stream;
    this.#identity = options.identity;
    this.#version = options.version ?? protocolVersion;
    this.#now = options.now ?? Date.now;
    this.#parser = new LineParser();
    // Not pipe(): the link pauses the port itself while too much waits to go out to the peer.
    stream.on('data', this.#onData);
    stream.on('drain', this.#onDrain);
    this.#parser.on('data', (decoded: Decoded) => this.#receive(decoded));
  }

  /** Bytes written to the port that have not gone out yet. */
  get queuedBytes(): number {
    return this.#stream.writableLength;
  }

  /** The other end's hello, once the ends have greeted each other with the same protocol version. */
  get peer(): Identity | null {
    return this.#peer;
  }

  /** Subscribe to what the link sees; returns the unsubscribe function. */
  onEvent(listener: (event: LinkEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Send one message; returns the sequence number it went out with. */
  send(message: Message): number {
    return this.sendLine((seq) => encodeLine(seq, message));
  }

  /** Send a line built for the next sequence number (fault injection builds its own malformed lines). */
  protected sendLine(build: (seq: number) => string): number {
    const seq = this.#seq;
    this.#seq = nextSeq(seq);
    const line = build(seq);
    if (this.#stream.writableLength + line.length > sendQueueBytesMax) {
      // A peer that does not read must not make us hold its lines without end: drop this one. Its
      // number is spent, so once the peer reads again it sees a GAP and knows lines were lost.
      this.emit({ type: 'throttled', reason: 'dropped', queuedBytes: this.#stream.writableLength });
      return seq;
    }
    this.#stream.write(line);
    this.emit({ type: 'sent', line });
    if (!this.#readingPaused && this.#stream.writableLength > sendQueuePauseBytes) {
      // Output waits for the port to drain; until it does, read no more (every line read may draw a reply).
      this.#readingPaused = true;
      this.#stream.pause();
      this.#watchQueue();
      this.emit({ type: 'throttled', reason: 'paused', queuedBytes: this.#stream.writableLength });
    }
    return seq;
  }

  /** While paused, look whether the queue went down (a stream emits 'drain' only past its own high-water mark). */
  #watchQueue(): void {
    this.#queueTimer = setInterval(() => {
      if (this.#stream.writableLength <= sendQueuePauseBytes / 2) this.#resumeReading();
    }, pausedPollMs);
  }

  #resumeReading(): void {
    if (!this.#readingPaused) return;
    this.#readingPaused = false;
    if (this.#queueTimer !== undefined) clearInterval(this.#queueTimer);
    this.#queueTimer = undefined;
    this.emit({ type: 'throttled', reason: 'resumed', queuedBytes: this.#stream.writableLength });
    this.#stream.resume();
  }

  /** Write bytes as they are, outside the numbering: for tests of the other end's error handling. */
  writeRaw(text: string): void {
    this.#stream.write(text);
  }

  /** Send a line built for the next sequence number, unchecked (a tester sends unknown types on purpose). */
  sendBuilt(build: (seq: number) => string): number {
    return this.sendLine(build);
  }

  /** Greet the other end (HI); it answers HA. */
  hello(): number {
    return this.send(this.#helloMessage(false));
  }

  /**
   * Greet now and again every `intervalMs` until the other end greets back (HA or HI), at most
   * `attemptsMax` hellos in all: a board that resets on open, or boots after us, still connects.
   * Forgets the current peer first (after a replug, neither end may assume the other remembers).
   * @example
   * link.greetUntilAnswered(600); // dsc serial: ten minutes of hellos, one a second
   */
  greetUntilAnswered(attemptsMax: number, intervalMs: number = helloRetryMs): void {
    this.stopGreeting();
    this.#peer = null;
    let attempts = 0;
    const attempt = () => {
      this.#helloTimer = undefined;
      if (this.#peer !== null || attempts >= attemptsMax) return;
      attempts += 1;
      this.hello();
      this.#helloTimer = setTimeout(attempt, intervalMs);
      this.#helloTimer.unref?.();
    };
    attempt();
  }

  /** Stop repeating hellos. */
  stopGreeting(): void {
    if (this.#helloTimer !== undefined) clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
  }

  protected emit(event: LinkEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  /** Refuse a line: answer ER and report it. */
  protected refuse(code: ErrorCode, seq: number | null, detail: string): void {
    this.emit({ type: 'refused', code, seq, detail });
    if (junkCodes.has(code) && !this.#junkReplyAllowed()) {
      this.emit({ type: 'throttled', reason: 'unanswered', queuedBytes: this.#stream.writableLength });
      return;
    }
    this.send({ type: 'error', ref: seq, code, text: detail });
  }

  /** At most junkRepliesPerSecondMax answers to junk in any window of one second. */
  #junkReplyAllowed(): boolean {
    const now = this.#now();
    if (now - this.#junkWindowStartMs >= 1_000) {
      this.#junkWindowStartMs = now;
      this.#junkRepliesInWindow = 0;
    }
    if (this.#junkRepliesInWindow >= junkRepliesPerSecondMax) return false;
    this.#junkRepliesInWindow += 1;
    return true;
  }

  /** Called once the ends have greeted each other (after our HA went out, or their HA came in). */
  protected abstract connected(viaHello: boolean): void;
  /** A sequenced, accepted message that is neither a hello nor an error. */
  protected abstract handle(envelope: Envelope): void;

  #helloMessage(reply: boolean): Message {
    return { ...helloOf(this.#identity, reply), version: this.#version } as Message;
  }

  #receive(decoded: Decoded): void {
    if (!decoded.ok) {
      this.refuse(decoded.error.code, decoded.error.seq, decoded.error.detail);
      return;
    }
    const { envelope } = decoded;
    const { seq, message } = envelope;
    this.emit({ type: 'received', envelope });
    if (message.type === 'error') {
      // Never answer an error: two ends answering each other's errors would talk forever. It is not
      // judged either (it may answer a line sent before any hello), but it does advance the count,
      // so the line after it is not taken for a gap.
      if (this.#peer !== null) this.#peerLastSeq = seq;
      this.emit({ type: 'peerError', seq, code: message.code, ref: message.ref, text: message.text });
      return;
    }
    if (message.type === 'hello' || message.type === 'helloReply') {
      this.#greet(seq, message);
      return;
    }
    if (this.#peer === null) {
      this.refuse('HELLO', seq, 'no hello yet: send HI first');
      return;
    }
    const verdict = judgeSequence(this.#peerLastSeq, seq);
    switch (verdict.type) {
      case 'duplicate':
        this.refuse('DUP', seq, `line ${seq} repeated; dropped`);
        return;
      case 'stale':
        this.refuse('STALE', seq, `line ${seq} is older than ${this.#peerLastSeq}; dropped`);
        return;
      case 'gap':
        this.refuse('GAP', seq, `${verdict.lost} line(s) before ${seq} lost`);
        break;
      case 'next':
        break;
    }
    this.#peerLastSeq = seq;
    this.handle(envelope);
  }

  #greet(seq: number, message: Extract<Message, { type: 'hello' | 'helloReply' }>): void {
    if (message.version !== this.#version) {
      this.#peer = null;
      this.refuse('VERSION', seq, `protocol ${message.version} refused; this end speaks ${this.#version}`);
      return;
    }
    const { type: _type, ...peer } = message;
    this.#peer = peer;
    this.stopGreeting();
    this.#peerLastSeq = seq;
    if (message.type === 'hello') this.send(this.#helloMessage(true));
    this.emit({ type: 'connected', peer });
    this.connected(message.type === 'hello');
  }

  /** Stop reading (the stream itself belongs to the caller). */
  detach(): void {
    this.stopGreeting();
    if (this.#queueTimer !== undefined) clearInterval(this.#queueTimer);
    this.#queueTimer = undefined;
    this.#stream.off('data', this.#onData);
    this.#stream.off('drain', this.#onDrain);
    this.#parser.removeAllListeners('data');
  }
}

