/**
 * The panel's end of the link: a keypad/display board, or a tester driving a card. Sends key events
 * and waits for the AK that names the frame each produced, so callers wait on frames, never on time.
 * Timeouts here are failure guards only: a conforming card answers at once.
 */
import type { Duplex } from 'node:stream';
import { assertNever } from '../../firmware/assert.ts';
import { Link, type LinkOptions } from './link.ts';
import { helloRetryMs, type Envelope, type Identity, type Message, type WireKey } from './messages.ts';

export type FrameMessage = Extract<Message, { type: 'frame' }>;

/** How long to wait for an answer the card owes at once (an AK, the HA) before calling it lost. */
export const replyTimeoutMs = 2_000;

/** Lines that may wait for their AK at once: under half the sequence circle, so no two share a number. */
export const pendingLinesMax = 400;

/** What a key event (or time advance) produced: the AK's frame number and that frame, when it arrived intact. */
export interface KeyResult {
  readonly ackFrame: number;
  /** The frame the AK names; null when that frame never arrived (lost, or refused as malformed). */
  readonly frame: FrameMessage | null;
}

interface Pending {
  readonly resolve: (result: KeyResult) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The panel's end: keys out, frames in.
 * @example
 * const panel = new PanelLink(port, { identity: { model: 'TESTER', firmware: '0', serial: '-', clock: 'real' } });
 * await panel.connect();
 * const { frame } = await panel.press('PRESS', 2000); // frame.text === 'PIN>'
 */
export class PanelLink extends Link {
  /** Every frame received intact, in order of arrival. */
  readonly frames: FrameMessage[] = [];
  readonly #pending = new Map<number, Pending>();
  #connectWaiters: Array<() => void> = [];
  #frameWaiters = new Set<(frame: FrameMessage) => void>();

  constructor(stream: Duplex, options: LinkOptions) {
    super(stream, options);
    this.onEvent((event) => {
      // An error naming one of our pending lines ends that wait at once, with the card's reason.
      if (event.type !== 'peerError' || event.ref === null || event.code === 'GAP') return;
      const pending = this.#pending.get(event.ref);
      if (pending === undefined) return;
      this.#pending.delete(event.ref);
      clearTimeout(pending.timer);
      pending.reject(new Error(`card refused line ${event.ref}: ${event.code} ${event.text}`));
    });
  }

  /** The last frame received intact, or null before any. */
  get frame(): FrameMessage | null {
    return this.frames.at(-1) ?? null;
  }

  protected override connected(): void {
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const waiter of waiters) waiter();
  }

  protected override handle({ seq, message }: Envelope): void {
    switch (message.type) {
      case 'frame':
        this.frames.push(message);
        for (const waiter of this.#frameWaiters) waiter(message);
        return;
      case 'ack': {
        const pending = this.#pending.get(message.ref);
        if (pending === undefined) return; // an AK for a line we gave up on; nothing waits for it
        this.#pending.delete(message.ref);
        clearTimeout(pending.timer);
        const frame = this.frame?.number === message.frame ? this.frame : null;
        pending.resolve({ ackFrame: message.frame, frame });
        return;
      }
      case 'keyDown':
      case 'keyUp':
      case 'time':
      case 'hello':
      case 'helloReply':
      case 'error':
        this.refuse('ROLE', seq, `a panel does not take ${message.type} lines`);
        return;
      default:
        assertNever(message, 'message');
    }
  }

  /**
   * Greet the card and wait for its HA and the frame it shows; resolves with the card's identity.
   * @example
   * const card = await panel.connect(); // { version: 1, model: 'DSCPLUS', serial: '…', clock: 'virtual', … }
   */
  async connect(timeoutMs = replyTimeoutMs): Promise<Identity> {
    const framesBefore = this.frames.length;
    let unsubscribe = () => {};
    const connected = new Promise<void>((resolve, reject) => {
      this.#connectWaiters.push(resolve);
      // A card of another protocol version says so at once; do not wait out the timeout.
      unsubscribe = this.onEvent((event) => {
        if (event.type === 'peerError' && event.code === 'VERSION') reject(new Error(`the card refused our hello: ${event.text}`));
      });
    });
    // Greet again every helloRetryMs until answered: a board that resets when the port opens, or
    // boots late, misses the first hello.
    this.greetUntilAnswered(Math.max(1, Math.ceil(timeoutMs / helloRetryMs)));
    try {
      await withTimeout(connected, timeoutMs, 'no HA answered our HI');
    } finally {
      this.stopGreeting();
      unsubscribe();
    }
    if (this.frames.length === framesBefore) await this.waitForFrame(() => true, timeoutMs, 'no FR followed the HA');
    return this.peer!;
  }

  /** Send one KD/KU (or TM) and wait for its AK. Rejects when the card refuses the line or never answers. */
  async sendAcked(message: Extract<Message, { type: 'keyDown' | 'keyUp' | 'time' }>, timeoutMs = replyTimeoutMs): Promise<KeyResult> {
    return new Promise<KeyResult>((resolve, reject) => {
      if (this.#pending.size >= pendingLinesMax) throw new RangeError(`at most ${pendingLinesMax} lines may wait for their AK at once`);
      const seq = this.send(message);
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(new Error(`no AK for line ${seq} (${message.type}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(seq, { resolve, reject, timer });
    });
  }

  keyDown(key: WireKey): Promise<KeyResult> {
    return this.sendAcked({ type: 'keyDown', key });
  }

  keyUp(key: WireKey): Promise<KeyResult> {
    return this.sendAcked({ type: 'keyUp', key });
  }

  /** Let `ms` of virtual time pass on a virtual-clock card. */
  advance(ms: number): Promise<KeyResult> {
    return this.sendAcked({ type: 'time', ms });
  }

  /**
   * Press and release a key, holding it `holdMs`: on a virtual-clock card the hold is a TM line; on a
   * real-clock card (hardware) the key is really held that long, as a finger would.
   */
  async press(key: WireKey, holdMs: number): Promise<KeyResult> {
    await this.keyDown(key);
    if (holdMs > 0) {
      if (this.peer?.clock === 'virtual') await this.advance(holdMs);
      else await new Promise((resolve) => setTimeout(resolve, holdMs));
    }
    return this.keyUp(key);
  }

  /** Wait until a frame satisfying `predicate` arrives (or is already the last one). */
  async waitForFrame(predicate: (frame: FrameMessage) => boolean, timeoutMs: number, what = 'the expected frame never came'): Promise<FrameMessage> {
    const last = this.frame;
    if (last !== null && predicate(last)) return last;
    let waiter: ((frame: FrameMessage) => void) | undefined;
    const found = new Promise<FrameMessage>((resolve) => {
      waiter = (frame) => {
        if (predicate(frame)) resolve(frame);
      };
      this.#frameWaiters.add(waiter);
    });
    try {
      return await withTimeout(found, timeoutMs, what);
    } finally {
      this.#frameWaiters.delete(waiter!);
    }
  }

  close(): void {
    for (const [seq, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`link closed while line ${seq} waited for its AK`));
    }
    this.#pending.clear();
    this.detach();
  }
}

/** `promise`, or a rejection saying `what` after `timeoutMs`. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} (waited ${timeoutMs} ms)`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
