/**
 * The login page's logic, on the real host library: which user and device, the current challenge,
 * the field being typed, and the verdict. A small state holder with listeners so the Ink component
 * only renders snapshots, and tests can drive it without a terminal.
 */

import { assertNever } from '../../firmware/assert.ts';
import { pinDigits } from '../../firmware/types.ts';

/** The part of `host/index.ts`'s Host the login page uses: every call a promise, the page's state updated when it settles. */
export interface LoginHost {
  devices(user: string): Promise<readonly { readonly serial: string; readonly profile: string; readonly active?: boolean }[]>;
  login(request: { user: string; password: string; serial?: string }): Promise<{ readonly ok: true; readonly issued: { readonly challenge: string } } | { readonly ok: false; readonly reason: string }>;
  verify(request: { user: string; challenge: string; response: string; purpose: 'login' | 'pin-change' }): Promise<{ readonly ok: true; readonly session?: { readonly token: string } } | { readonly ok: false; readonly reason: string }>;
  requestPinChange(request: { user: string; session: string; serial: string; newPin: string; confirmPin: string }): Promise<{ readonly challenge: string }>;
  unlockCode(request: { serial: string; lockCode: string }): Promise<string>;
}


/** The verdict the end-to-end test and the user look for. */
export const loginOkText = 'LOGIN OK';
export const pinChangedText = 'PIN CHANGED';

/** Longest input per field: OCRA responses are at most 10 digits (RFC 6287 §5.1); a PIN is the card's `pinDigits`. */
export const responseDigitsMax = 10;
/** The page's keys type digits: a password here is digits (the demo's is), at most this many. */
export const passwordDigitsMax = 64;
/** Room for a lock code's digits (the card shows `lockCodeDigits` of them after its L). */
export const lockCodeDigitsMax = 10;
export const newPinDigits = pinDigits;

/** Refusals after which the host still accepts another answer to the same challenge. */
const challengeStillOpen: ReadonlySet<string> = new Set(['wrong response', 'malformed response', 'throttled']);

export type LoginMode = 'password' | 'login' | 'newPin' | 'confirmPin' | 'pinChallenge' | 'lockCode';

export interface DeviceChoice {
  readonly serial: string;
  readonly profile: string;
}

export interface LoginState {
  readonly user: string;
  readonly devices: readonly DeviceChoice[];
  readonly deviceIndex: number;
  readonly mode: LoginMode;
  /** The challenge to type into the card, when one is open. */
  readonly challenge: string | undefined;
  /** Digits typed into the active field (shown masked for PINs). */
  readonly field: string;
  readonly verdict: { readonly ok: boolean; readonly text: string } | undefined;
  /** A host error that is not a verdict (no device, a refused PIN change…). */
  readonly notice: string | undefined;
  /** Whether a login succeeded in this page (PIN change is offered only then). */
  readonly loggedIn: boolean;
}

function fieldMax(mode: LoginMode): number {
  switch (mode) {
    case 'password':
      return passwordDigitsMax;
    case 'login':
    case 'pinChallenge':
      return responseDigitsMax;
    case 'newPin':
    case 'confirmPin':
      return newPinDigits;
    case 'lockCode':
      return lockCodeDigitsMax;
    default:
      return assertNever(mode, 'login mode');
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * @example
 * const login = new LoginModel(host, 'demo');
 * await login.start();              // lists the devices, asks for the password
 * for (const d of password) login.typeDigit(d);
 * await login.submit();             // password checked: login.state.challenge, e.g. '142917'
 * for (const d of response) login.typeDigit(d);
 * await login.submit();             // login.state.verdict: { ok: true, text: 'LOGIN OK' }
 */
export class LoginModel {
  #state: LoginState;
  #newPin = '';
  #session: string | undefined;
  readonly #listeners = new Set<(state: LoginState) => void>();

  constructor(
    private readonly host: LoginHost,
    user: string,
    private readonly onPinChanged: (serial: string, newPin: string) => void = () => {},
    /** What to do about a locked account or device (the demo names its unlock command). */
    private readonly unlockHint?: string,
  ) {
    this.#state = { user, devices: [], deviceIndex: 0, mode: 'password', challenge: undefined, field: '', verdict: undefined, notice: undefined, loggedIn: false };
  }

  get state(): LoginState {
    return this.#state;
  }

  get device(): DeviceChoice | undefined {
    return this.#state.devices[this.#state.deviceIndex];
  }

  subscribe(listener: (state: LoginState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(change: Partial<LoginState>): void {
    this.#state = { ...this.#state, ...change };
    for (const listener of this.#listeners) listener(this.#state);
  }

  /** Show a line from the shell (e.g. that the database is in memory). */
  note(text: string): void {
    this.#set({ notice: text });
  }

  /** Load the user's devices and ask for the password. */
  async start(preferredSerial?: string): Promise<void> {
    try {
      const devices = (await this.host.devices(this.#state.user))
        .filter((device) => device.active !== false)
        .map((device) => ({ serial: device.serial, profile: device.profile }));
      const preferred = devices.findIndex((device) => device.serial === preferredSerial);
      this.#set({ devices, deviceIndex: Math.max(0, preferred) });
      if (devices.length === 0) {
        this.#set({ notice: `user ${JSON.stringify(this.#state.user)} has no active device` });
        return;
      }
      this.#set({ mode: 'password', field: '' });
    } catch (error) {
      this.#set({ notice: messageOf(error) });
    }
  }

  /** Back to the start of a login: the password first (every challenge comes after a password check). */
  async newChallenge(): Promise<void> {
    if (!this.device) return;
    this.#newPin = '';
    this.#set({ mode: 'password', challenge: undefined, field: '' });
  }

  async #password(password: string): Promise<void> {
    const device = this.device;
    if (!device) return;
    if (password === '') return this.#set({ notice: 'type the password, then Enter' });
    try {
      const result = await this.host.login({ user: this.#state.user, password, serial: device.serial });
      if (result.ok) this.#set({ mode: 'login', challenge: result.issued.challenge, field: '', notice: undefined, verdict: undefined });
      else this.#set({ mode: 'password', field: '', verdict: { ok: false, text: result.reason }, notice: this.#lockedNotice(result) });
    } catch (error) {
      this.#set({ mode: 'password', field: '', verdict: { ok: false, text: messageOf(error) } });
    }
  }

  async nextDevice(): Promise<void> {
    if (this.#state.devices.length < 2) return;
    this.#set({ deviceIndex: (this.#state.deviceIndex + 1) % this.#state.devices.length, verdict: undefined });
    await this.newChallenge();
  }

  typeDigit(digit: string): void {
    if (!/^[0-9]$/.test(digit)) throw new RangeError(`"digit" expected one of 0-9, got ${JSON.stringify(digit)}`);
    if (this.#state.field.length >= fieldMax(this.#state.mode)) return;
    this.#set({ field: this.#state.field + digit });
  }

  back(): void {
    this.#set({ field: this.#state.field.slice(0, -1) });
  }

  /** Start the server-side PIN change (only after a login here): new PIN, then again, then the host's challenge. */
  startPinChange(): void {
    if (!this.device) return;
    if (!this.#state.loggedIn || this.#session === undefined) return this.#set({ notice: 'log in first: a PIN change needs a login with the current PIN' });
    this.#newPin = '';
    this.#set({ mode: 'newPin', field: '', challenge: undefined, verdict: undefined, notice: undefined });
  }

  /** digipass: ask for the lock code the card shows, to derive the unlock code. */
  startUnlock(): void {
    if (!this.device) return;
    this.#set({ mode: 'lockCode', field: '', verdict: undefined, notice: undefined });
  }

  async cancel(): Promise<void> {
    if (this.#state.mode === 'password' || this.#state.mode === 'login') return;
    this.#set({ verdict: undefined });
    await this.newChallenge();
  }

  async submit(): Promise<void> {
    const { mode, field } = this.#state;
    switch (mode) {
      case 'password':
        return this.#password(field);
      case 'login':
      case 'pinChallenge':
        return this.#verify(mode, field);
      case 'newPin':
        if (field.length !== newPinDigits) return this.#set({ notice: `the new PIN must be ${newPinDigits} digits` });
        this.#newPin = field;
        return this.#set({ mode: 'confirmPin', field: '', notice: undefined });
      case 'confirmPin':
        return this.#requestPinChange(field);
      case 'lockCode':
        return this.#unlock(field);
      default:
        return assertNever(mode, 'login mode');
    }
  }

  async #verify(mode: 'login' | 'pinChallenge', response: string): Promise<void> {
    const challenge = this.#state.challenge;
    if (challenge === undefined) return this.#set({ notice: 'no open challenge: press c for one' });
    if (response === '') return this.#set({ notice: 'type the response the card shows, then Enter' });
    try {
      const result = await this.host.verify({ user: this.#state.user, challenge, response, purpose: mode === 'pinChallenge' ? 'pin-change' : 'login' });
      if (result.ok) {
        const serial = this.device?.serial ?? '';
        if (mode === 'pinChallenge') this.onPinChanged(serial, this.#newPin);
        if (result.session) this.#session = result.session.token;
        this.#set({ verdict: { ok: true, text: mode === 'pinChallenge' ? pinChangedText : loginOkText }, loggedIn: true });
        // The challenge is used up: open the next one so the page is ready for another login.
        await this.newChallenge();
      } else {
        this.#set({ verdict: { ok: false, text: result.reason }, field: '', notice: this.#lockedNotice(result) });
        // A challenge that can still be answered stays; one the host has closed is replaced.
        if (!challengeStillOpen.has(result.reason)) await this.newChallenge();
      }
    } catch (error) {
      this.#set({ verdict: { ok: false, text: messageOf(error) }, field: '' });
    }
  }

  #lockedNotice(result: { readonly reason: string; readonly locked?: boolean }): string | undefined {
    if (result.reason !== 'locked' && result.locked !== true) return undefined;
    return `locked after too many failures${this.unlockHint ? `: ${this.unlockHint}` : ''}`;
  }

  async #requestPinChange(confirmPin: string): Promise<void> {
    const device = this.device;
    if (!device) return;
    try {
      const { challenge } = await this.host.requestPinChange({ user: this.#state.user, session: this.#session ?? '', serial: device.serial, newPin: this.#newPin, confirmPin });
      this.#set({ mode: 'pinChallenge', challenge, field: '', notice: 'answer this challenge on the card with the NEW PIN' });
    } catch (error) {
      this.#newPin = '';
      this.#set({ mode: 'newPin', field: '', verdict: { ok: false, text: messageOf(error) } });
    }
  }

  async #unlock(lockCode: string): Promise<void> {
    const device = this.device;
    if (!device) return;
    try {
      const code = await this.host.unlockCode({ serial: device.serial, lockCode });
      this.#set({ verdict: { ok: true, text: `unlock code ${code}` }, field: '' });
    } catch (error) {
      this.#set({ verdict: { ok: false, text: messageOf(error) }, field: '' });
    }
  }
}
