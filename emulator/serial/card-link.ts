/**
 * The card's end of the link: takes key events (and, on a virtual-clock card, time advances) from
 * the panel, feeds them to the card session, and answers each with the frames it produced followed
 * by an AK naming the frame now on the display. Frames that appear on their own (a timer fired on a
 * real-clock card) go out as they happen. Used by `dsc serial` (the panel is a keypad/display board)
 * and `dsc bridge` (the panel is a tester), which is why both speak exactly the same protocol.
 */
import type { Duplex } from 'node:stream';
import { assertNever } from '../../firmware/assert.ts';
import { sealLine } from './codec.ts';
import { Link, type LinkOptions } from './link.ts';
import type { ClockKind, Envelope, Message, WireKey } from './messages.ts';

/** The part of a card frame the wire carries. */
export interface WireFrame {
  readonly number: number;
  readonly text: string;
  readonly indicators: { readonly lowBattery: boolean; readonly locked: boolean };
}

/** What the card end needs from a card session (emulator/card.ts CardSession satisfies it). */
export interface CardLike {
  readonly frame: WireFrame;
  keyDown(key: WireKey): WireFrame;
  keyUp(key: WireKey): WireFrame;
  advance(ms: number): WireFrame;
  onFrame(listener: (frame: WireFrame) => void): () => void;
}

/**
 * Deliberate misbehaviour on the wire, for proving that `dsc conformance` catches a broken device
 * (test-only; the faults of the card's state are in emulator/faults.ts).
 * - wrong-response: every frame that shows a response shows it with its last digit changed.
 * - long-frame: every frame that shows a response is sent with one character too many.
 */
export const faults = ['wrong-response', 'long-frame'] as const;
export type Fault = (typeof faults)[number];

export interface CardLinkOptions extends LinkOptions {
  readonly clock: ClockKind;
  readonly fault?: Fault;
  /** Is this frame text a response? (for the wrong-response and long-frame faults) */
  readonly isResponse?: (text: string) => boolean;
  /**
   * The card session threw (its device file could not be written: the runtime stops the card, as a
   * power loss would). The link stops answering; the shell reports the error and exits.
   */
  readonly onCardError?: (error: Error) => void;
}

/**
 * The card's end over any Duplex (a serialport, a pty, an in-process pair).
 * @example
 * const link = new CardLink(port, session, { identity: { model: 'DSC+', firmware: '1.0.0', serial: '40417265', clock: 'real' }, clock: 'real' });
 * // … link.close() when done
 */
export class CardLink extends Link {
  readonly #card: CardLike;
  readonly #options: CardLinkOptions;
  #lastSentFrame: number | null = null;
  #failed = false;
  readonly #unsubscribe: () => void;

  constructor(stream: Duplex, card: CardLike, options: CardLinkOptions) {
    super(stream, options);
    this.#card = card;
    this.#options = options;
    // Timer-driven frames (real clock) reach the panel only once it has greeted us; before that the
    // panel learns the display from the FR that follows our HA.
    this.#unsubscribe = card.onFrame((frame) => {
      if (this.peer !== null) this.#sendFrame(frame);
    });
  }

  protected override connected(): void {
    this.#sendFrame(this.#card.frame, true);
  }

  protected override handle(envelope: Envelope): void {
    if (this.#failed) return;
    try {
      this.#apply(envelope);
    } catch (error) {
      this.#failed = true;
      this.detach();
      if (this.#options.onCardError === undefined) throw error;
      this.#options.onCardError(error as Error);
    }
  }

  #apply({ seq, message }: Envelope): void {
    let frame: WireFrame;
    switch (message.type) {
      case 'keyDown':
        frame = this.#card.keyDown(message.key);
        break;
      case 'keyUp':
        frame = this.#card.keyUp(message.key);
        break;
      case 'time':
        if (this.#options.clock !== 'virtual') {
          this.refuse('CLOCK', seq, 'this card keeps real time; TM is for virtual-clock cards');
          return;
        }
        frame = this.#card.advance(message.ms);
        break;
      case 'ack':
      case 'frame':
      case 'hello':
      case 'helloReply':
      case 'error':
        this.refuse('ROLE', seq, `a card does not take ${message.type} lines`);
        return;
      default:
        return assertNever(message, 'message');
    }
    this.#sendFrame(frame); // a no-op when the session already announced it through onFrame
    this.send({ type: 'ack', ref: seq, frame: frame.number });
  }

  #sendFrame(frame: WireFrame, always = false): void {
    if (!always && frame.number === this.#lastSentFrame) return;
    this.#lastSentFrame = frame.number;
    const message: Extract<Message, { type: 'frame' }> = {
      type: 'frame',
      number: frame.number,
      text: frame.text,
      lowBattery: frame.indicators.lowBattery,
      locked: frame.indicators.locked,
    };
    const isResponse = this.#options.isResponse ?? (() => false);
    switch (this.#options.fault) {
      case undefined:
        this.send(message);
        return;
      case 'wrong-response':
        this.send(isResponse(message.text) ? { ...message, text: message.text.slice(0, -1) + String((Number(message.text.at(-1)) + 1) % 10) } : message);
        return;
      case 'long-frame':
        if (!isResponse(message.text)) {
          this.send(message);
          return;
        }
        // The encoder refuses a text over 8 characters, as it should; a broken device skips it.
        this.sendLine((seq) => sealLine(`FR ${seq} ${message.number} ${message.lowBattery ? 'B' : '-'}${message.locked ? 'L' : '-'} "${message.text}0"`));
        return;
      default:
        assertNever(this.#options.fault, 'fault');
    }
  }

  close(): void {
    this.#unsubscribe();
    this.detach();
  }
}
