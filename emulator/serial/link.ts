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
import { protocolVersion, type Decoded, type Envelope, type ErrorCode, type Identity, type Message } from './messages.ts';
import { judgeSequence, nextSeq } from './sequence.ts';

/** Something the link noticed, for logs and for the conformance report. */
export type LinkEvent =
  | { readonly type: 'sent'; readonly line: string }
  | { readonly type: 'received'; readonly envelope: Envelope }
  /** A line from the other end was refused; we answered with this error. */
  | { readonly type: 'refused'; readonly code: ErrorCode; readonly seq: number | null; readonly detail: string }
  /** The other end sent us an error line. */
  | { readonly type: 'peerError'; readonly seq: number; readonly code: ErrorCode; readonly ref: number | null; readonly text: string }
  | { readonly type: 'connected'; readonly peer: Identity };

export interface LinkOptions {
  readonly identity: Omit<Identity, 'version'>;
  /** The protocol version announced in hellos; only tests of the VERSION refusal change it. */
  readonly version?: number;
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

  constructor(stream: Duplex, options: LinkOptions) {
    this.#stream = stream;
    this.#identity = options.identity;
    this.#version = options.version ?? protocolVersion;
    this.#parser = new LineParser();
    stream.pipe(this.#parser);
    this.#parser.on('data', (decoded: Decoded) => this.#receive(decoded));
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
    this.#stream.write(line);
    this.emit({ type: 'sent', line });
    return seq;
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

  protected emit(event: LinkEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  /** Refuse a line: answer ER and report it. */
  protected refuse(code: ErrorCode, seq: number | null, detail: string): void {
    this.emit({ type: 'refused', code, seq, detail });
    this.send({ type: 'error', ref: seq, code, text: detail });
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
    this.#peerLastSeq = seq;
    if (message.type === 'hello') this.send(this.#helloMessage(true));
    this.emit({ type: 'connected', peer });
    this.connected(message.type === 'hello');
  }

  /** Stop reading (the stream itself belongs to the caller). */
  detach(): void {
    this.#stream.unpipe(this.#parser);
    this.#parser.removeAllListeners('data');
  }
}

