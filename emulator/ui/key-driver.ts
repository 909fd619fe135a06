/**
 * Turns terminal key presses into the card's key-down / key-up events. A terminal reports only that a
 * key was typed, so the driver holds each key for a set time (a tap or a ~2 s hold of PRESS) and
 * releases it itself; keys typed meanwhile wait in a queue, in order, as fingers on a real keypad would.
 * The clock is handed in: real timers in `dsc emulate`, a virtual scheduler in tests.
 */
import type { Frame, Key } from '../../firmware/types.ts';

/** Runs `fn` after `ms`; returns a cancel function. */
export interface Scheduler {
  after(ms: number, fn: () => void): () => void;
}

/** Real timers, for `dsc emulate`. */
export const realScheduler: Scheduler = {
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/** The part of a CardSession the driver presses keys on. */
export interface Keys {
  keyDown(key: Key): Frame;
  keyUp(key: Key): Frame;
}

/** Keys waiting while another is held; more are dropped (a stuck paste must not queue forever). */
export const queuedPressesMax = 64;

export interface KeyDriverHooks {
  /** The key now held down by the driver, or undefined when none: the keypad lights it. */
  readonly onPressed?: (key: Key | undefined) => void;
  /** Each key event with the frame number it produced (for the session log). */
  readonly onKey?: (event: 'down' | 'up', key: Key, frame: Frame) => void;
}

/**
 * @example
 * const driver = new KeyDriver(session, realScheduler, { onPressed: setLit });
 * driver.press('PRESS', holdPressMs); // power on: down now, up after the hold
 * driver.press('1', tapPressMs);      // queued until PRESS is released
 */
export class KeyDriver {
  readonly #queue: { key: Key; holdMs: number }[] = [];
  #held: Key | undefined;
  #cancel: (() => void) | undefined;
  #closed = false;

  constructor(
    private readonly keys: Keys,
    private readonly scheduler: Scheduler,
    private readonly hooks: KeyDriverHooks = {},
  ) {}

  /** The key held down now, if any. */
  get held(): Key | undefined {
    return this.#held;
  }

  /** Presses still waiting behind the held key. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queue a press of `key` held for `holdMs`; returns false when the queue is full and it was dropped. */
  press(key: Key, holdMs: number): boolean {
    if (this.#closed) return false;
    if (this.#queue.length >= queuedPressesMax) return false;
    this.#queue.push({ key, holdMs });
    if (this.#held === undefined) this.#next();
    return true;
  }

  #next(): void {
    const press = this.#queue.shift();
    if (!press || this.#closed) return;
    this.#held = press.key;
    this.hooks.onPressed?.(press.key);
    // Not inside `onKey?.(…)`: an optional call skips evaluating its arguments when there is no hook.
    const frame = this.keys.keyDown(press.key);
    this.hooks.onKey?.('down', press.key, frame);
    this.#cancel = this.scheduler.after(press.holdMs, () => this.#release(press.key));
  }

  #release(key: Key): void {
    this.#cancel = undefined;
    if (this.#closed) return;
    this.#held = undefined;
    const frame = this.keys.keyUp(key);
    this.hooks.onKey?.('up', key, frame);
    this.hooks.onPressed?.(undefined);
    this.#next();
  }

  /** Stop: cancel the pending release and drop the queue (the card's state is already saved). */
  close(): void {
    this.#closed = true;
    this.#cancel?.();
    this.#queue.length = 0;
  }
}

/** The part of a virtual-clock CardSession the virtual scheduler moves forward. */
export interface VirtualClock {
  readonly nowMs: number;
  advance(ms: number): Frame;
}

/**
 * A scheduler on the card's virtual clock, for tests: nothing happens until `advance(ms)`, which
 * moves the card's clock forward and runs each callback at its due time, in order.
 * @example
 * const scheduler = new VirtualScheduler(session);
 * driver.press('PRESS', holdPressMs);
 * scheduler.advance(holdPressMs); // the card sees the hold, then the key-up
 */
export class VirtualScheduler implements Scheduler {
  #pending: { atMs: number; order: number; fn: () => void }[] = [];
  #order = 0;

  constructor(private readonly clock: VirtualClock) {}

  after(ms: number, fn: () => void): () => void {
    const entry = { atMs: this.clock.nowMs + ms, order: this.#order++, fn };
    this.#pending.push(entry);
    return () => {
      this.#pending = this.#pending.filter((other) => other !== entry);
    };
  }

  /** Milliseconds until the next pending callback, or undefined when none is pending. */
  get nextDueInMs(): number | undefined {
    if (this.#pending.length === 0) return undefined;
    return Math.max(0, Math.min(...this.#pending.map((entry) => entry.atMs)) - this.clock.nowMs);
  }

  advance(ms: number): void {
    const targetMs = this.clock.nowMs + ms;
    for (;;) {
      const due = this.#pending.filter((entry) => entry.atMs <= targetMs).sort((a, b) => a.atMs - b.atMs || a.order - b.order)[0];
      if (!due) break;
      this.#pending = this.#pending.filter((entry) => entry !== due);
      if (due.atMs > this.clock.nowMs) this.clock.advance(due.atMs - this.clock.nowMs);
      due.fn();
    }
    if (targetMs > this.clock.nowMs) this.clock.advance(targetMs - this.clock.nowMs);
  }
}
