/**
 * Driving a card over the link as a finger would: presses, holds and waits in the card's own time
 * (TM lines on a virtual-clock card, real time on hardware), key scripts in the `dsc press` syntax,
 * and getting the card back to "off" from whatever it shows.
 */
import { shortPressMs } from '../firmware/types.ts';
import type { ScriptAction } from '../emulator/key-script.ts';
import type { WireKey } from '../emulator/serial/messages.ts';
import type { FrameMessage, KeyResult, PanelLink } from '../emulator/serial/panel-link.ts';

/**
 * On a real-clock card a wait lasts this much longer than asked, so that the card's timer, started a
 * moment after ours, has fired when we look (a failure guard against a race, not a test sleep).
 */
export const realClockMarginMs = 250;
/** How many BACK presses empty any entry field and walk back to a screen PRESS can switch off (8-digit fields, plus room). */
const backPressesToLeave = 10;

export class ConformanceError extends Error {
  override name = 'ConformanceError';
}

/**
 * @example
 * const driver = new Driver(panel);
 * await driver.press('PRESS', 2000);
 * await driver.type('2580', 'OK'); // driver.text === 'CHALLNG>'
 */
export class Driver {
  readonly panel: PanelLink;
  /** Every key result, for the protocol checks at the end. */
  readonly results: KeyResult[] = [];

  readonly #signal: AbortSignal | undefined;

  /** `signal` ends every real-time wait at once (Ctrl-C, a port that closed). */
  constructor(panel: PanelLink, signal?: AbortSignal) {
    this.panel = panel;
    this.#signal = signal;
  }

  /** Wait `ms` of real time, or less when the run is stopped. */
  #sleep(ms: number): Promise<void> {
    const signal = this.#signal;
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  get virtual(): boolean {
    return this.panel.peer?.clock === 'virtual';
  }

  /** The text on the display now ('' when off). */
  get text(): string {
    return this.panel.frame?.text ?? '';
  }

  get frame(): FrameMessage | null {
    return this.panel.frame;
  }

  #record(result: KeyResult): KeyResult {
    this.results.push(result);
    return result;
  }

  /** Let `ms` pass on the card. */
  async wait(ms: number): Promise<void> {
    if (ms <= 0) return;
    if (this.virtual) {
      this.#record(await this.panel.advance(ms));
    } else {
      await this.#sleep(ms + realClockMarginMs);
    }
  }

  /** Press and release `key`, holding it `holdMs` (a short press is immediate). */
  async press(key: WireKey, holdMs = 0): Promise<FrameMessage | null> {
    this.#record(await this.panel.keyDown(key));
    if (holdMs > shortPressMs) {
      if (this.virtual) this.#record(await this.panel.advance(holdMs));
      else await this.#sleep(holdMs);
    }
    return this.#record(await this.panel.keyUp(key)).frame;
  }

  /** Type digits and keys: '2580' presses 2, 5, 8, 0. */
  async type(...tokens: string[]): Promise<void> {
    for (const token of tokens) {
      if (/^[0-9]+$/.test(token)) for (const digit of token) await this.press(digit as WireKey);
      else await this.press(token as WireKey);
    }
  }

  /** Run actions parsed by emulator/key-script.ts; battery actions have no serial form and are refused earlier. */
  async run(actions: readonly ScriptAction[]): Promise<void> {
    for (const action of actions) {
      if (action.type === 'press') await this.press(action.key, action.holdMs);
      else if (action.type === 'wait') await this.wait(action.ms);
      else throw new ConformanceError('a battery change cannot be asked for over the serial protocol');
    }
  }

  /** Switch the card off from any screen: a 2 s hold, then BACK out of entry screens and hold again, then idle time. */
  async off(powerHoldMs: number, idleTimeoutMs: number): Promise<void> {
    if (this.text === '') return;
    await this.press('PRESS', powerHoldMs);
    if (this.text === '') return;
    for (let i = 0; i < backPressesToLeave; i++) await this.press('BACK');
    await this.press('PRESS', powerHoldMs);
    if (this.text === '') return;
    await this.wait(idleTimeoutMs);
    if (this.text !== '') throw new ConformanceError(`the card cannot be switched off: after a 2 s PRESS hold and ${idleTimeoutMs} ms idle it still shows ${JSON.stringify(this.text)}`);
  }
}
