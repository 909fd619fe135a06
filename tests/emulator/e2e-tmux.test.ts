/**
 * End to end in a REAL terminal: `npm start` inside tmux, with DSC_HOME pointing at a fresh folder so the
 * demo state is made from scratch. The test reads the screen as a person would: the demo PIN
 * and the challenge off the page, the response off the drawn LCD by its glyph shapes, and types with
 * `tmux send-keys`. It waits for what it expects by polling `capture-pane` under a deadline (a failure
 * guard, not a sleep). The PRESS holds take their ~2 s of real time. What needs no terminal (the replay,
 * the refusals before drawing) runs in-process through `main(argv, io)`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDscInProcess } from '../support/cli.ts';
import { readLcd } from './support/read-lcd.ts';

const repo = resolve(import.meta.dirname, '../..');
/** How long any one expected screen may take to appear before the test fails (a hold is ~2.25 s). */
const screenDeadlineMs = 15_000;
const pollMs = 40;

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const inCi = process.env.CI === 'true';

if (!hasTmux && !inCi) console.warn('tests/emulator/e2e-tmux.test.ts: SKIPPED: tmux is not installed (apt-get install tmux); outside CI this is allowed');

// In CI the suite runs even without tmux, so that it fails (in beforeAll) instead of silently skipping.
describe.runIf(hasTmux || inCi)('emulator end to end (tmux, 120×40)', () => {
  const socket = `dsc-e2e-${process.pid}`;
  let work = '';
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const capture = () => tmux('capture-pane', '-p', '-t', 'emu');
  const send = (...keys: string[]) => tmux('send-keys', '-t', 'emu', ...keys);

  async function waitFor<T>(what: string, read: (screen: string) => T | undefined): Promise<T> {
    const deadline = Date.now() + screenDeadlineMs;
    let screen = '';
    for (;;) {
      screen = capture();
      const found = read(screen);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out after ${screenDeadlineMs} ms waiting for ${what}; the screen was:\n${screen}`);
      await new Promise((done) => setTimeout(done, pollMs));
    }
  }

  const lcdShows = (expected: RegExp) => (screen: string) => {
    try {
      const { glyphs, plain } = readLcd(screen);
      // The glyphs are what is read; the small print must agree with them.
      return expected.test(glyphs) && glyphs === plain ? glyphs : undefined;
    } catch {
      return undefined; // mid-redraw
    }
  };
  const match = (pattern: RegExp) => (screen: string) => pattern.exec(screen)?.[1];

  function start(extra = ''): void {
    // The shell prints the exit status after the program ends (tmux 3.3 has no #{pane_dead_status}).
    // Exactly what the README tells a newcomer to run: `npm start`, in the package folder. DSC_HOME keeps the
    // demo's state in the fresh test folder instead of the repository's ./.dsc/.
    const command = `DSC_HOME=${JSON.stringify(join(work, ".dsc"))} npm start --silent${extra ? ` --${extra}` : ''}; echo "[exit $?]"`;
    tmux('new-session', '-d', '-x', '120', '-y', '40', '-s', 'emu', '-c', repo, command);
    tmux('set-option', '-t', 'emu', 'remain-on-exit', 'on');
  }

  async function quit(): Promise<void> {
    send('q');
    const status = await waitFor('the program to exit', match(/\[exit (\d+)\]/));
    expect(status).toBe('0');
    // The alternate screen is left: the card is gone and the shell's screen is back.
    expect(capture()).not.toContain('PRESS');
    tmux('kill-session', '-t', 'emu');
  }

  /** Power on, PIN, challenge: returns the response read off the LCD's glyphs. */
  async function operateCard(pin: string, challenge: string): Promise<string> {
    send('h'); // PRESS held ~2 s: power on
    await waitFor('PIN> on the LCD', lcdShows(/^PIN>$/));
    send(pin, 'Enter');
    await waitFor('CHALLNG> on the LCD', lcdShows(/^CHALLNG>$/));
    send(challenge, 'Enter');
    return waitFor('an 8-digit response on the LCD', lcdShows(/^\d{8}$/));
  }

  beforeAll(() => {
    if (!hasTmux) throw new Error('tmux is not installed: .ci/run installs it; the end-to-end test of the emulator cannot run without a real terminal');
    work = mkdtempSync(join(tmpdir(), 'dsc-emulate-e2e-'));
  });
  afterAll(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    rmSync(work, { recursive: true, force: true });
  });

  it('first start: demo PIN and password on screen; password first, then the response read off the LCD logs in (LOGIN OK); PIN change only after that login; a wrong PIN is rejected; the recording replays', async () => {
    start(` --record ${JSON.stringify(join(work, 'session.ndjson'))}`);
    const pin = await waitFor('the demo PIN', match(/demo PIN (\d{4})/));
    const password = await waitFor('the demo password', match(/password (\d{10})/));
    await waitFor('the card, off', lcdShows(/^$/));
    expect(capture()).toContain('keys → CARD');
    // The page asks for the password first: no challenge, and no PIN change before a login.
    await waitFor('the password field', match(/(Password:)/));
    expect(capture()).not.toMatch(/Challenge: \d/);
    expect(capture()).not.toContain('n change PIN');
    send('Tab');
    await waitFor('the focus on the login page', match(/(keys → LOGIN PAGE)/));
    send('n');
    await waitFor('PIN change refused before a login', match(/(log in first)/));
    const logIn = async (): Promise<string> => {
      send(password, 'Enter');
      const challenge = await waitFor('a challenge after the password', match(/Challenge: (\d{6})/));
      send('Tab');
      await waitFor('the focus on the card', match(/(keys → CARD)/));
      return challenge;
    };
    const challenge = await logIn();
    const response = await operateCard(pin, challenge);
    send('Tab');
    await waitFor('the focus on the login page', match(/(keys → LOGIN PAGE)/));
    send(response, 'Enter');
    await waitFor('LOGIN OK', match(/✔ (LOGIN OK)/));
    await waitFor('PIN change offered after the login', match(/(n change PIN)/));

    // PIN change: the new PIN twice, then the page's challenge answered on the card with the NEW PIN.
    const newPin = pin === '7391' ? '7392' : '7391';
    send('n', newPin, 'Enter', newPin, 'Enter');
    await waitFor('the PIN-change challenge', match(/(answer this challenge on the card with the NEW PIN)/));
    const pinChallenge = await waitFor('the PIN-change challenge', match(/Challenge: (\d{6})/));
    send('Tab');
    await waitFor('the focus on the card', match(/(keys → CARD)/));
    send('h'); // PRESS held ~2 s on the response screen: power off
    await waitFor('the card off', lcdShows(/^$/));
    const changed = await operateCard(newPin, pinChallenge);
    send('Tab', changed, 'Enter');
    await waitFor('PIN CHANGED', match(/✔ (PIN CHANGED)/));
    await waitFor('the new demo PIN on screen', match(new RegExp(`demo PIN (${newPin})`)));

    // Now the old PIN: rejected.
    const next = await logIn();
    send('h');
    await waitFor('the card off', lcdShows(/^$/));
    const wrong = await operateCard(pin, next);
    send('Tab', wrong, 'Enter');
    const verdict = await waitFor('the rejection', match(/✘ ([a-z ]+)/));
    expect(verdict.trim()).toBe('wrong response');
    await quit();

    // The real-clock session, recorded, replays headless on the virtual clock with the same frames.
    const replay = await runDscInProcess(['press', '--replay', 'session.ndjson'], { cwd: work });
    expect(replay.stderr).toBe('');
    expect(replay.stdout).toMatch(/^replay ok: \d+ key events, \d+ frames matched/);
    expect(replay.status).toBe(0);
  });

  it('second start: the same demo card and PIN from ./.dsc/ (remembered between runs)', async () => {
    const config = JSON.parse(readFileSync(join(work, '.dsc/demo.json'), 'utf8')) as { pin: string };
    const serial = (JSON.parse(readFileSync(join(work, '.dsc/demo-card.json'), 'utf8')) as { serial: string }).serial;
    start();
    await waitFor('the same demo PIN', match(new RegExp(`demo PIN (${config.pin})`)));
    expect(capture()).toContain(`S/N ${serial}`);
    await quit();
  });

  it('a corrupt device file is reported with exit 2 and left as it was', async () => {
    const path = join(work, 'corrupt.json');
    const bytes = '{"format":"dscplus-device","version":1,"serial":"1234"';
    writeFileSync(path, bytes);
    const result = await runDscInProcess(['emulate', '--device', path], { cwd: work });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('corrupt.json');
    expect(result.stderr).toMatch(/not valid JSON|truncated|corrupt/);
    expect(readFileSync(path, 'utf8')).toBe(bytes);
  });

  it('outside a terminal it says so (exit 2) and makes no demo files', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'dsc-emulate-notty-'));
    try {
      // In-process, stdin and stdout are pipes (tests/support/cli.ts), as for a script.
      const result = await runDscInProcess(['emulate'], { cwd: empty });
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('terminal');
      expect(readdirSync(empty)).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
