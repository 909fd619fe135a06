/**
 * The conformance suite: drives a card over the serial protocol and reports, check by check, which
 * behaviours of the screen table and which responses conform. Every response is checked with the
 * OCRA engine on the secret from the device file (or PSKC); the lock of the digipass profile is
 * checked by locking the card and unlocking it again with the unlock code the server would derive.
 */
import { randomInt } from 'node:crypto';
import { unlockCode } from '../firmware/unlock.ts';
import { cardModel, lcdWidthChars, lockCodeDigits, wrongPinsMax } from '../firmware/types.ts';
import { KeyScriptError, parseKeyScript } from '../emulator/key-script.ts';
import { sealLine } from '../emulator/serial/codec.ts';
import type { LinkEvent } from '../emulator/serial/link.ts';
import { protocolVersion, type ErrorCode } from '../emulator/serial/messages.ts';
import { replyTimeoutMs, withTimeout, type PanelLink } from '../emulator/serial/panel-link.ts';
import { ConformanceError, Driver } from './driver.ts';
import { loadScreenTable, patternOf, shows, transitionName, type ScreenTable, type TransitionRow } from './screen-table.ts';
import { challengeToType, responseConforms, type Target } from './target.ts';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

export interface ConformanceOptions {
  /** Random challenges answered and verified. */
  readonly responses: number;
  /** Also run the transitions that block a digipass card for good. */
  readonly destructive: boolean;
  /** Called with each result as soon as it is known (the CLI prints as it goes). */
  readonly onResult?: (result: CheckResult) => void;
}

/** The new PIN the screen table's PIN-change scripts set; restored to the card's PIN afterwards. */
const tableNewPin = '4827';
/** The PIN the screen table's scripts assume the card has (its "default" device). */
const tablePin = '2580';
/** The wrong PIN the table's scripts type. */
const tableWrongPin = '1111';
/** Screens during which a digipass card is locked: the lock indicator must be lit. */
const lockedScreens = new Set(['lockPin', 'lockCode', 'unlock', 'unlockFail', 'blocked']);

class Conformance {
  readonly results: CheckResult[] = [];
  readonly driver: Driver;
  readonly table: ScreenTable;
  readonly events: LinkEvent[] = [];
  /** The card was blocked on purpose (--destructive); it cannot be restored. */
  blocked = false;
  /** Errors we provoked on purpose, by code: they are not held against the card. */
  readonly provoked = new Map<ErrorCode, number>();

  constructor(
    readonly panel: PanelLink,
    readonly target: Target,
    readonly options: ConformanceOptions,
  ) {
    this.driver = new Driver(panel);
    this.table = loadScreenTable();
    panel.onEvent((event) => this.events.push(event));
  }

  get hold(): number {
    return this.table.display.powerHoldMs;
  }

  report(name: string, status: CheckStatus, detail: string): void {
    const result = { name, status, detail };
    this.results.push(result);
    this.options.onResult?.(result);
  }

  async check(name: string, body: () => Promise<string>): Promise<boolean> {
    try {
      this.report(name, 'pass', await body());
      return true;
    } catch (error) {
      this.report(name, 'fail', (error as Error).message);
      return false;
    }
  }

  expectText(want: string | RegExp, what: string): string {
    const text = this.driver.text;
    const ok = typeof want === 'string' ? text === want : want.test(text);
    if (!ok) throw new ConformanceError(`${what}: expected ${typeof want === 'string' ? JSON.stringify(want) : want}, the display shows ${JSON.stringify(text)}`);
    return text;
  }

  async powerOn(): Promise<void> {
    await this.driver.off(this.hold, this.table.display.idleTimeoutMs);
    await this.driver.press('PRESS', this.hold);
  }

  /** Read a response from the display, turn by turn when it is longer than the LCD. */
  async readResponse(): Promise<string> {
    const frame = this.driver.frame;
    if (frame === null) throw new ConformanceError('no frame');
    let response = frame.text;
    for (let shown = lcdWidthChars; shown < this.target.suite.digits; shown += lcdWidthChars) {
      await this.driver.wait(this.table.display.turnMs);
      response += this.driver.text;
    }
    return response;
  }

  /** Type a challenge at CHALLNG>, press OK, and check the response shown. Returns false when it does not verify. */
  async answer(question: string, pin: string): Promise<boolean> {
    await this.driver.type(challengeToType(this.target, question));
    const before = this.driver.results.length;
    await this.driver.press('OK');
    const produced = this.driver.results.slice(before).at(-1);
    if (produced !== undefined && produced.frame === null) {
      throw new ConformanceError(`challenge ${question}: the frame the card acknowledged (#${produced.ackFrame}) never arrived intact (see the line check)`);
    }
    const response = await this.readResponse();
    if (!/^[0-9]+$/.test(response) || response.length !== this.target.suite.digits) {
      throw new ConformanceError(`challenge ${question}: expected a ${this.target.suite.digits}-digit response, the display shows ${JSON.stringify(this.driver.text)}`);
    }
    return responseConforms(this.target, question, response, pin);
  }

  randomQuestion(): string {
    const length = this.target.suite.question.lengthMax;
    let question = '';
    for (let i = 0; i < length; i++) question += String(randomInt(10));
    return question;
  }

  /** Back to a known state: off, with the card's own PIN set, no wrong PINs counted, not locked. */
  async restore(): Promise<void> {
    const { driver, target } = this;
    await driver.off(this.hold, this.table.display.idleTimeoutMs);
    if (target.profile !== 'digipass') return;
    await driver.press('PRESS', this.hold);
    if (/^L[0-9]{7}$/.test(driver.text)) {
      const code = unlockCode(target.secret, driver.text.slice(1));
      await driver.type('OK', code, 'OK');
      this.expectText('NEW PIN', 'restoring the card: after the unlock code');
      await this.setPin(target.pin);
    } else if (driver.text === 'NEW PIN') {
      await this.setPin(target.pin);
    } else if (shows(this.table, 'blocked', driver.text)) {
      throw new ConformanceError('the card is blocked for good; it cannot be tested further');
    } else {
      this.expectText('PIN>', 'restoring the card: at power-on');
      let accepted: string | undefined;
      for (const candidate of [target.pin, tableNewPin]) {
        await driver.type(candidate, 'OK');
        if (driver.text === 'CHALLNG>') {
          accepted = candidate;
          break;
        }
      }
      if (accepted === undefined) throw new ConformanceError(`restoring the card: neither its PIN nor ${tableNewPin} is accepted; the display shows ${JSON.stringify(driver.text)}`);
      if (accepted !== target.pin) {
        await driver.press('PRESS', this.hold);
        this.expectText('NEW PIN', 'restoring the PIN: holding PRESS at CHALLNG>');
        await this.setPin(target.pin);
      }
    }
    await driver.off(this.hold, this.table.display.idleTimeoutMs);
  }

  async setPin(pin: string): Promise<void> {
    await this.driver.type(pin, 'OK');
    this.expectText('PIN CONF', 'setting the PIN: after the new PIN');
    await this.driver.type(pin, 'OK');
    this.expectText('PIN SET', 'setting the PIN: after confirming it');
  }

  async waitForPeerError(code: ErrorCode): Promise<void> {
    this.provoked.set(code, (this.provoked.get(code) ?? 0) + 1);
    const seen = this.events.length;
    await withTimeout(
      new Promise<void>((resolve) => {
        const poll = () => {
          if (this.events.slice(seen).some((event) => event.type === 'peerError' && event.code === code)) {
            unsubscribe();
            resolve();
          }
        };
        const unsubscribe = this.panel.onEvent(poll);
        poll();
      }),
      replyTimeoutMs,
      `the card did not answer with ER ${code}`,
    );
  }
}

async function handshake(c: Conformance): Promise<void> {
  await c.check('handshake: protocol version, model and serial number', async () => {
    const peer = c.panel.peer;
    if (peer === null) throw new ConformanceError('no hello answer');
    if (peer.version !== protocolVersion) throw new ConformanceError(`the card speaks protocol ${peer.version}, expected ${protocolVersion}`);
    if (peer.model !== cardModel) throw new ConformanceError(`the card says it is a ${JSON.stringify(peer.model)}, expected ${JSON.stringify(cardModel)}`);
    if (peer.serial !== c.target.serial) throw new ConformanceError(`the card's serial is ${peer.serial}, the device file's ${c.target.serial}: is this the right card?`);
    return `protocol ${peer.version}, ${peer.model} firmware ${peer.firmware}, serial ${peer.serial}, ${peer.clock} clock`;
  });
}

async function responses(c: Conformance): Promise<void> {
  await c.check(`responses: ${c.options.responses} random challenges verify with the device's secret (${c.target.suite.text})`, async () => {
    await c.restore();
    await c.powerOn();
    c.expectText('PIN>', 'power-on');
    await c.driver.type(c.target.pin, 'OK');
    c.expectText('CHALLNG>', 'after the PIN');
    const wrong: string[] = [];
    for (let i = 0; i < c.options.responses; i++) {
      const question = c.randomQuestion();
      if (!(await c.answer(question, c.target.pin))) wrong.push(question);
      await c.driver.press('OK');
      c.expectText('CHALLNG>', 'OK at the response');
    }
    if (wrong.length > 0) throw new ConformanceError(`wrong response: ${wrong.length} of ${c.options.responses} responses do not verify (challenges ${wrong.join(', ')})`);
    return `${c.options.responses} of ${c.options.responses} verified`;
  });
}

async function softPin(c: Conformance): Promise<void> {
  await c.check('soft PIN: a wrong PIN is accepted and gives the response of that PIN, not of the right one', async () => {
    const wrongPin = c.target.pin.slice(0, 3) + String((Number(c.target.pin[3]) + 1) % 10);
    await c.restore();
    await c.powerOn();
    await c.driver.type(wrongPin, 'OK');
    c.expectText('CHALLNG>', 'after a wrong soft PIN');
    const question = c.randomQuestion();
    const counterBefore = c.target.counter;
    if (!(await c.answer(question, wrongPin))) {
      c.target.counter = counterBefore;
      throw new ConformanceError(`the response to ${question} under a wrong PIN does not verify as that PIN's response`);
    }
    return 'the PIN is mixed into the response';
  });
}

async function lock(c: Conformance): Promise<void> {
  await c.check(`lock: ${wrongPinsMax} wrong PINs lock the card, which then shows its lock code until the unlock code`, async () => {
    const { driver, target } = c;
    const wrongPin = target.pin === tableWrongPin ? '2222' : tableWrongPin;
    await c.restore();
    await c.powerOn();
    for (let tries = 1; tries < wrongPinsMax; tries++) {
      await driver.type(wrongPin, 'OK');
      c.expectText(`FAIL ${tries}`, `wrong PIN ${tries}`);
    }
    await driver.type(wrongPin, 'OK');
    if (driver.text !== 'LOCK PIN' || driver.frame?.locked !== true) {
      throw new ConformanceError(`lock not honoured: after ${wrongPinsMax} wrong PINs in a row the card shows ${JSON.stringify(driver.text)}${driver.frame?.locked ? '' : ' without the lock indicator'}, expected "LOCK PIN" with it`);
    }
    await driver.wait(c.table.display.messageMs);
    const lockPattern = new RegExp(`^L[0-9]{${lockCodeDigits}}$`);
    c.expectText(lockPattern, 'after LOCK PIN');
    await driver.off(c.hold, c.table.display.idleTimeoutMs);
    await driver.press('PRESS', c.hold);
    if (!lockPattern.test(driver.text) || driver.frame?.locked !== true) {
      throw new ConformanceError(`lock not honoured: after a power cycle the locked card shows ${JSON.stringify(driver.text)}${driver.frame?.locked ? '' : ' without the lock indicator'}, expected its lock code`);
    }
    await driver.type(target.pin, 'OK');
    c.expectText('UNLOCK>', 'OK at the lock code (the PIN digits must be ignored)');
    const code = unlockCode(target.secret, lastLockCode(c));
    await driver.type(code, 'OK');
    c.expectText('NEW PIN', 'after the right unlock code');
    await c.setPin(target.pin);
    await driver.wait(c.table.display.messageMs);
    c.expectText('CHALLNG>', 'after PIN SET');
    if (!(await c.answer(c.randomQuestion(), target.pin))) throw new ConformanceError('wrong response after unlocking');
    return 'locked, lock code kept across power-off, unlocked with the derived code, PIN set again';
  });
}

/** The lock code of the last lock-code frame the card sent. */
function lastLockCode(c: Conformance): string {
  const frame = [...c.panel.frames].reverse().find((candidate) => /^L[0-9]{7}$/.test(candidate.text));
  if (frame === undefined) throw new ConformanceError('no lock code was shown');
  return frame.text.slice(1);
}

async function robustness(c: Conformance): Promise<void> {
  await c.check('protocol: damaged, repeated, unknown and other-version lines are refused and never pressed', async () => {
    const { driver, panel } = c;
    await c.restore();
    await c.powerOn();
    c.expectText('PIN>', 'power-on');
    // A damaged key line: the CRC of another line.
    panel.writeRaw('KD 0 5*0000\r\n');
    await c.waitForPeerError('CRC');
    // A repeated key line: the very same bytes twice.
    let lastLine = '';
    const unsubscribe = panel.onEvent((event) => {
      if (event.type === 'sent' && event.line.startsWith('KD ')) lastLine = event.line;
    });
    await panel.keyDown('7');
    unsubscribe();
    panel.writeRaw(lastLine);
    await c.waitForPeerError('DUP');
    await panel.keyUp('7');
    await driver.type('8');
    c.expectText('PIN>--', 'after 7, a damaged 5, a repeated 7 and 8 (only 7 and 8 count)');
    panel.sendBuilt((seq) => sealLine(`ZZ ${seq}`));
    await c.waitForPeerError('TYPE');
    panel.sendBuilt((seq) => sealLine(`HI ${seq} ${protocolVersion + 1} TESTER 0 - R`));
    await c.waitForPeerError('VERSION');
    c.provoked.set('HELLO', (c.provoked.get('HELLO') ?? 0) + 1);
    await driver.press('9').then(
      () => {
        throw new ConformanceError('after refusing our hello of another version, the card still took a key');
      },
      (error: Error) => {
        if (!/HELLO/.test(error.message)) throw error;
      },
    );
    await panel.connect();
    c.expectText('PIN>--', 'after the hello again (the refused 9 must not count)');
    return 'CRC, DUP, TYPE, VERSION and HELLO refusals, no phantom key';
  });
}

/** The screen table's scripts, made to fit this card: its PIN, its challenge length and check digit. */
function adapt(c: Conformance, script: string): string {
  const question = '1234567890123456'.slice(0, c.target.suite.question.lengthMax);
  return script
    .split(' ')
    .filter((token) => token !== '')
    .map((token) => {
      if (token === tablePin) return c.target.pin;
      if (token === tableWrongPin && c.target.pin === tableWrongPin) return '2222';
      if (token === '123456') return challengeToType(c.target, question);
      return token;
    })
    .join(' ');
}

function skipReason(c: Conformance, row: TransitionRow): string | null {
  if (/BATTERY/.test(`${row.setup} ${row.keys}`)) return 'needs a battery change, which the serial protocol cannot ask for';
  if ((row.from === 'blocked' || row.to === 'blocked') && !c.options.destructive) return 'blocks the card for good (--destructive runs it)';
  if (row.device === 'no-pin') return 'needs a card ordered without a PIN';
  if (row.device === 'check-digit' && !c.target.checkDigit) return 'needs a card with a check digit';
  if (row.device === '10-digit' && c.target.suite.digits <= lcdWidthChars) return 'needs a card with responses longer than the display';
  return null;
}

async function runScript(c: Conformance, script: string): Promise<void> {
  const parts = adapt(c, script).split('{unlock}');
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) await c.driver.type(unlockCode(c.target.secret, lastLockCode(c)));
    const tokens = parts[i]!.split(' ').filter((token) => token !== '');
    let actions;
    try {
      actions = parseKeyScript(tokens);
    } catch (error) {
      if (error instanceof KeyScriptError) throw new ConformanceError(`the screen table's script ${JSON.stringify(script)}: ${error.message}`);
      throw error;
    }
    await c.driver.run(actions);
  }
}

/** Rows that block a digipass card for good; they run last, the one that needs an unblocked card first. */
function blocks(row: TransitionRow): boolean {
  return row.from === 'blocked' || row.to === 'blocked';
}

async function screenTable(c: Conformance): Promise<void> {
  const applicable = c.table.transitions.filter((row) => row.profiles === 'both' || row.profiles === c.target.profile);
  const destructive = applicable.filter(blocks).sort((a, b) => Number(a.from === 'off' || a.from === 'blocked') - Number(b.from === 'off' || b.from === 'blocked'));
  const rows = [...applicable.filter((row) => !blocks(row)), ...destructive];
  let stopped: string | null = null;
  for (const row of rows) {
    const name = `screen table: ${transitionName(row)}`;
    const reason = stopped ?? skipReason(c, row);
    if (reason !== null) {
      c.report(name, 'skip', reason);
      continue;
    }
    await c.check(name, async () => {
      try {
        if (blocks(row) && c.blocked) await c.driver.off(c.hold, c.table.display.idleTimeoutMs);
        else await c.restore();
      } catch (error) {
        // Without a known starting state every further row would fail for the same reason: say it once.
        stopped = `not run: the card could not be brought back to a known state (${(error as Error).message})`;
        throw new ConformanceError(`stopped the screen table here: ${(error as Error).message}`);
      }
      await runScript(c, row.setup);
      if (!shows(c.table, row.from, c.driver.text)) {
        throw new ConformanceError(`the setup (${row.setup || 'none'}) should reach ${row.from} (${patternOf(c.table, row.from)}); the display shows ${JSON.stringify(c.driver.text)}`);
      }
      await runScript(c, row.keys);
      const text = c.driver.text;
      if (!shows(c.table, row.to, text)) {
        throw new ConformanceError(`after ${row.keys} expected ${row.to} (${patternOf(c.table, row.to)}); the display shows ${JSON.stringify(text)}${lockedScreens.has(row.to) ? ': lock not honoured' : ''}`);
      }
      const wantLocked = c.target.profile === 'digipass' && lockedScreens.has(row.to);
      if (wantLocked && c.driver.frame?.locked !== true) throw new ConformanceError(`${row.to} shows without the lock indicator: lock not honoured`);
      if (row.to === 'blocked') c.blocked = true;
      for (const [indicator, want] of Object.entries(row.indicators ?? {})) {
        const shown = indicator === 'lowBattery' ? c.driver.frame?.lowBattery : c.driver.frame?.locked;
        if (shown !== want) throw new ConformanceError(`indicator ${indicator} expected ${want}, shown ${shown}`);
      }
      return `${JSON.stringify(text)}`;
    });
  }
}

/** Checks over everything the card sent during the run. */
function lineChecks(c: Conformance): void {
  const refused = c.events.filter((event): event is Extract<LinkEvent, { type: 'refused' }> => event.type === 'refused');
  const long = refused.filter((event) => /more than the \d+ of the LCD/.test(event.detail));
  c.report(
    `lines: every line from the card is well-formed (frames at most ${lcdWidthChars} characters)`,
    refused.length === 0 ? 'pass' : 'fail',
    refused.length === 0
      ? `${c.events.filter((event) => event.type === 'received').length} lines received intact`
      : `${long.length > 0 ? `frame over ${lcdWidthChars} characters: ${long.length} frame(s); ` : ''}${refused.length} malformed line(s), first: ${refused[0]!.code} ${refused[0]!.detail}`,
  );
  const lost = c.driver.results.filter((result) => result.frame === null);
  c.report(
    'acks: every key event is acknowledged with the number of a frame that arrived',
    lost.length === 0 ? 'pass' : 'fail',
    lost.length === 0 ? `${c.driver.results.length} acknowledgements` : `${lost.length} AK(s) named a frame that never arrived intact, first #${lost[0]!.ackFrame}`,
  );
  const frames = c.panel.frames;
  const backwards = frames.findIndex((frame, i) => i > 0 && (frame.number < frames[i - 1]!.number || (frame.number === frames[i - 1]!.number && frame.text !== frames[i - 1]!.text)));
  c.report(
    'frames: numbers never go back, and one number is one display',
    backwards < 0 ? 'pass' : 'fail',
    backwards < 0 ? `${frames.length} frames` : `frame #${frames[backwards]!.number} ${JSON.stringify(frames[backwards]!.text)} after #${frames[backwards - 1]!.number} ${JSON.stringify(frames[backwards - 1]!.text)}`,
  );
  const counts = new Map<ErrorCode, number>();
  for (const event of c.events) if (event.type === 'peerError') counts.set(event.code, (counts.get(event.code) ?? 0) + 1);
  const unprovoked = [...counts].filter(([code, count]) => count > (c.provoked.get(code) ?? 0)).map(([code, count]) => `${code} ×${count - (c.provoked.get(code) ?? 0)}`);
  c.report('errors: the card refused none of our well-formed lines', unprovoked.length === 0 ? 'pass' : 'fail', unprovoked.length === 0 ? 'none' : unprovoked.join(', '));
}

/**
 * Run every check against a connected card; resolves with the results (also streamed to `onResult`).
 * @example
 * const results = await runConformance(panel, target, { responses: 5, destructive: false });
 * const ok = results.every((r) => r.status !== 'fail');
 */
export async function runConformance(panel: PanelLink, target: Target, options: ConformanceOptions): Promise<CheckResult[]> {
  const c = new Conformance(panel, target, options);
  await handshake(c);
  await responses(c);
  if (target.profile === 'dscplus' && target.suite.pin) await softPin(c);
  if (target.profile === 'digipass') await lock(c);
  await robustness(c);
  await screenTable(c);
  if (c.blocked) {
    c.report('the card is left as found: off, its PIN set, not locked', 'skip', 'the card was blocked for good on purpose (--destructive)');
  } else {
    await c.check('the card is left as found: off, its PIN set, not locked', async () => {
      await c.restore();
      return 'off';
    });
  }
  lineChecks(c);
  return c.results;
}
