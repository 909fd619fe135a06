/**
 * A card for protocol tests that knows nothing of the firmware: every key event changes the display
 * to the key's name and bumps the frame number, so tests can see exactly which events were applied.
 */
import type { CardLike, WireFrame } from '../../../emulator/serial/card-link.ts';
import type { WireKey } from '../../../emulator/serial/messages.ts';

export class FakeCard implements CardLike {
  frame: WireFrame = { number: 0, text: '', indicators: { lowBattery: false, locked: false } };
  /** Every event applied, in order, e.g. 'down 5', 'up 5', 'time 100'. */
  readonly applied: string[] = [];
  readonly #listeners = new Set<(frame: WireFrame) => void>();

  #show(text: string): WireFrame {
    this.frame = { number: this.frame.number + 1, text: text.slice(0, 8), indicators: this.frame.indicators };
    for (const listener of this.#listeners) listener(this.frame);
    return this.frame;
  }

  keyDown(key: WireKey): WireFrame {
    this.applied.push(`down ${key}`);
    return this.#show(`D${key}`);
  }

  keyUp(key: WireKey): WireFrame {
    this.applied.push(`up ${key}`);
    return this.#show(`U${key}`);
  }

  advance(ms: number): WireFrame {
    this.applied.push(`time ${ms}`);
    return this.frame;
  }

  onFrame(listener: (frame: WireFrame) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
