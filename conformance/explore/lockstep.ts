/**
 * One explored sequence, run on the card under test and on the reference in lockstep: every key-down,
 * key-up and wait goes to both, and after each the card's frame (text and both indicators) must equal
 * the reference's. The first difference, a line the card got wrong or an acknowledgement of a frame that
 * never arrived, ends the sequence with a Divergence. Two rules keep the card usable for the next
 * sequence: an OK that would block a digipass card for good (its last unlock try, with a wrong code) is
 * not pressed, and digits typed at NEW PIN and PIN CONF are the card's own PIN, so a PIN change never
 * leaves the card with a PIN the tester does not know.
 */
import { performance } from 'node:perf_hooks';
import { shortPressMs, unlockCodeDigits, unlockTriesMax, type Frame, type Key } from '../../firmware/types.ts';
import { unlockCode } from '../../firmware/unlock.ts';
import type { LinkEvent } from '../../emulator/serial/link.ts';
import type { FrameMessage, KeyResult, PanelLink } from '../../emulator/serial/panel-link.ts';
import { loadScreenTable, shows, type ScreenTable } from '../../platform/screen-table.ts';
import { realClockMarginMs } from '../driver.ts';
import type { Target } from '../target.ts';
import type { Reference } from './reference.ts';
import { pinDigitToken, unlockToken, type Step } from './steps.ts';

/** What a display showed, as a report prints it. */
export interface Shown {
  readonly text: string;
  readonly lowBattery: boolean;
  readonly locked: boolean;
}

export interface Divergence {
  /** The keys pressed up to and including the one after which the card differed (dsc press tokens, unjoined). */
  readonly pressed: readonly string[];
  /** What was done last: `keyDown OK`, `keyUp PRESS`, `wait 1500 ms`. */
  readonly after: string;
  readonly expected: Shown;
  /** What the card showed (null: nothing, or a frame it never sent intact). */
  readonly actual: Shown | null;
  /** Why, when it is more than a different display: a malformed line, an acknowledgement of a lost frame. */
  readonly detail: string | null;
}

export class DivergenceError extends Error {
  override name = 'DivergenceError';
  constructor(readonly divergence: Divergence) {
    super(`after ${divergence.after}: expected ${showText(divergence.expected)}, the card shows ${divergence.actual === null ? 'nothing' : showText(divergence.actual)}${divergence.detail ? ` (${divergence.detail})` : ''}`);
  }
}

/**
 * A display as a person reads it in a report: `"LOCK PIN" [locked]`.
 * @example
 * showText({ text: 'PIN>', lowBattery: false, locked: false }) // '"PIN>"'
 */
export function showText(shown: Shown): string {
  return `${JSON.stringify(shown.text)}${shown.lowBattery ? ' [low battery]' : ''}${shown.locked ? ' [locked]' : ''}`;
}

function fromReference(frame: Frame): Shown {
  return { text: frame.text, lowBattery: frame.indicators.lowBattery, locked: frame.indicators.locked };
}

function fromCard(frame: FrameMessage | null): Shown | null {
  return frame === null ? null : { text: frame.text, lowBattery: frame.lowBattery, locked: frame.locked };
}

function same(a: Shown | null, b: Shown): boolean {
  return a !== null && a.text === b.text && a.lowBattery === b.lowBattery && a.locked === b.locked;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @example
 * await new Lockstep(panel, reference, target).run([{ type: 'hold', ms: 2000 }, { type: 'pin' }]);
 */
export class Lockstep {
  readonly pressed: string[] = [];
  /** The reference's screens seen, for the coverage report. */
  readonly screens = new Set<string>();
  readonly #table: ScreenTable = loadScreenTable();
  readonly #virtual: boolean;
  readonly #events: LinkEvent[] = [];
  readonly #unsubscribe: () => void;
  #referenceMs = 0;
  readonly #startMs = performance.now();
  /** The lock code the card showed last (the reference took it over). */
  #lockCode: string | null = null;

  constructor(
    readonly panel: PanelLink,
    readonly reference: Reference,
    readonly target: Target,
  ) {
    this.#virtual = panel.peer?.clock === 'virtual';
    this.#unsubscribe = panel.onEvent((event) => {
      if (event.type === 'refused') this.#events.push(event);
    });
  }

  close(): void {
    this.#unsubscribe();
  }

  /** Run `steps`; an aborted `signal` ends the sequence before its next step (a real-clock sequence is long). */
  async run(steps: readonly Step[], signal?: AbortSignal): Promise<void> {
    for (const step of steps) {
      if (signal?.aborted) throw new Error(`stopped: ${String(signal.reason)}`);
      await this.#step(step);
    }
  }

  async #step(step: Step): Promise<void> {
    switch (step.type) {
      case 'digits':
        for (const digit of step.digits) await this.#press(digit as Key);
        return;
      case 'challenge':
        for (const digit of step.digits) await this.#press(digit as Key);
        return this.#press('OK');
      case 'key':
        return this.#press(step.key);
      case 'hold':
        return this.#press('PRESS', step.ms);
      case 'wait':
        return this.#wait(step.ms);
      case 'pin':
        for (const [index, digit] of [...this.target.pin].entries()) await this.#press(digit as Key, 0, pinDigitToken(index));
        return this.#press('OK');
      case 'wrongPin':
        for (const digit of this.#wrongPin()) await this.#press(digit as Key);
        return this.#press('OK');
      case 'unlock':
        return this.#unlock();
      default:
        step satisfies never;
    }
  }

  #wrongPin(): string {
    return this.target.pin === '1111' ? '2222' : '1111';
  }

  /** Type the unlock code for the lock code shown, from the lock code screen or the empty UNLOCK> prompt. */
  async #unlock(): Promise<void> {
    if (this.#lockCode === null) return;
    if (this.reference.screenId === 'lockCode') await this.#press('OK');
    if (this.reference.screenId !== 'unlock' || this.reference.frame.text !== screenExample(this.#table, 'unlock')) return;
    const code = unlockCode(this.target.secret, this.#lockCode);
    for (const [index, digit] of [...code].entries()) await this.#press(digit as Key, 0, index === 0 ? unlockToken : null);
    await this.#press('OK');
  }

  /** Would this OK block the card for good? (The last unlock try, with a wrong code.) */
  #wouldBlock(key: Key): boolean {
    if (key !== 'OK' || this.reference.screenId !== 'unlock' || this.#lockCode === null) return false;
    const typed = this.reference.frame.text;
    return /^[0-9]+$/.test(typed) && typed.length === unlockCodeDigits && typed !== unlockCode(this.target.secret, this.#lockCode) && this.reference.unlockTries >= unlockTriesMax - 1;
  }

  /**
   * A digit that goes to NEW PIN or PIN CONF is the next digit of the card's PIN (see the file comment), also
   * when a message (TOO FEW) shows over them: the key ends it and is typed there.
   */
  #substitute(key: Key): { key: Key; token: string | null } | null {
    const { id, typed } = this.reference.keyEntry;
    if (!/^[0-9]$/.test(key) || (id !== 'newPin' && id !== 'confirmPin')) return null;
    if (typed >= this.target.pin.length) return null;
    return { key: this.target.pin[typed] as Key, token: pinDigitToken(typed) };
  }

  /** Press `key` (held `holdMs` when longer than a short press) on both; `token` is what the report prints. */
  async #press(key: Key, holdMs = 0, token: string | null = holdMs > shortPressMs ? `PRESS:${holdMs}` : key): Promise<void> {
    if (this.#wouldBlock(key)) return;
    const substituted = this.#substitute(key);
    if (substituted !== null) ({ key, token } = substituted);
    if (token !== null) this.pressed.push(token);
    await this.#both(`keyDown ${key}`, () => this.panel.keyDown(key), { type: 'down', key });
    const heldMs = holdMs > shortPressMs ? holdMs : this.#virtual ? shortPressMs : 0;
    if (heldMs > 0) await this.#time(heldMs, `holding ${key} ${heldMs} ms`);
    await this.#both(`keyUp ${key}`, () => this.panel.keyUp(key), { type: 'up', key });
  }

  async #wait(ms: number): Promise<void> {
    this.pressed.push(`WAIT:${ms}`);
    await this.#time(ms, `waiting ${ms} ms`);
  }

  async #time(ms: number, what: string): Promise<void> {
    if (this.#virtual) return this.#both(what, () => this.panel.advance(ms), { type: 'advance', ms });
    await sleep(ms);
    this.#catchUp();
    await this.#compare(what, this.panel.frame);
  }

  /** Real clock: the reference lives through the time that passed on the card. */
  #catchUp(): void {
    if (this.#virtual) return;
    const elapsedMs = Math.round(performance.now() - this.#startMs);
    if (elapsedMs > this.#referenceMs) this.reference.apply({ type: 'advance', ms: elapsedMs - this.#referenceMs });
    this.#referenceMs = Math.max(this.#referenceMs, elapsedMs);
  }

  async #both(what: string, onCard: () => Promise<KeyResult>, onReference: Parameters<Reference['apply']>[0]): Promise<void> {
    const result = await onCard();
    this.#catchUp();
    this.reference.apply(onReference);
    this.#checkLines(what, result.frame);
    if (result.frame === null) this.#diverge(what, null, `the card acknowledged frame #${result.ackFrame}, which never arrived intact`);
    await this.#compare(what, result.frame);
  }

  /** Every line from the card must be well-formed. */
  #checkLines(what: string, frame: FrameMessage | null): void {
    const refused = this.#events.shift();
    if (refused !== undefined && refused.type === 'refused') this.#diverge(what, frame, `the card sent a malformed line: ${refused.code} ${refused.detail}`);
  }

  async #compare(what: string, frame: FrameMessage | null): Promise<void> {
    if (this.#agrees(what, frame)) return;
    if (!this.#virtual) {
      // Real clock: a deadline of the card may lie between its time and ours (the reference's keys are
      // timed when their AK arrives). Once both are past it by the margin, a conforming card agrees again.
      await sleep(realClockMarginMs);
      this.#catchUp();
      frame = this.panel.frame;
      if (this.#agrees(what, frame)) return;
    }
    this.#diverge(what, frame, null);
  }

  #agrees(what: string, frame: FrameMessage | null): boolean {
    this.#checkLines(what, frame);
    this.screens.add(this.reference.screenId);
    const actual = fromCard(frame);
    let expected = fromReference(this.reference.frame);
    if (actual !== null && actual.text !== expected.text && shows(this.#table, 'lockCode', actual.text) && shows(this.#table, 'lockCode', expected.text)) {
      // A lock code is random: the card's is right; the reference draws the same one.
      expected = fromReference(this.reference.adoptLockCode(Number(actual.text.slice(1))));
    }
    if (actual !== null && shows(this.#table, 'lockCode', actual.text)) this.#lockCode = actual.text.slice(1);
    return same(actual, expected);
  }

  #diverge(what: string, frame: FrameMessage | null, detail: string | null): never {
    throw new DivergenceError({ pressed: [...this.pressed], after: what, expected: fromReference(this.reference.frame), actual: fromCard(frame), detail });
  }
}

function screenExample(table: ScreenTable, id: string): string {
  return table.screens.find((row) => row.id === id)?.example ?? '';
}

