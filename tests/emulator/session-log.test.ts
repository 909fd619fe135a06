/**
 * Session logs: a session recorded through the real key driver replays with the same frames; a log
 * whose frames were altered fails the replay and names the frame; a broken log is refused by line
 * (exit 2 through `dsc press --replay`, run in-process through `main`), and nothing is written anywhere.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newDeviceRecord, openCardFromRecord } from '../../emulator/card.ts';
import { KeyDriver, VirtualScheduler } from '../../emulator/ui/key-driver.ts';
import { holdPressMs, tapPressMs } from '../../emulator/ui/keymap.ts';
import { parseSessionLog, replaySessionLog, SessionLogError, SessionRecorder } from '../../emulator/session-log.ts';
import { runDscInProcess } from '../support/cli.ts';
import { idleTimeoutMs, messageMs, wrongPinsMax, type Key, type Profile } from '../../firmware/types.ts';

const startMs = Date.UTC(2026, 0, 1);
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dsc-session-log-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Record a session: keys through the KeyDriver on the virtual clock, as `dsc emulate --record` does on the real one. */
function record(profile: Profile, script: readonly (readonly [Key, number] | number)[], name: string): string {
  const device = newDeviceRecord({ profile, pin: profile === 'digipass' ? '2580' : '4826', clockMs: startMs });
  const path = join(work, name);
  let counter = 0;
  // Entropy that differs per key, so a replay that ignored the logged bytes would draw other lock codes.
  const recorder = SessionRecorder.create(path, device, (n) => new Uint8Array(n).map(() => (counter = (counter * 73 + 41) % 256)));
  const session = openCardFromRecord(device, { clock: 'virtual', startMs, random: recorder.random });
  recorder.attach(session);
  const scheduler = new VirtualScheduler(session);
  const driver = new KeyDriver(session, scheduler, { onKey: (event, key, frame) => recorder.key(event, key, frame, session.nowMs) });
  for (const step of script) {
    if (typeof step === 'number') scheduler.advance(step);
    else {
      driver.press(step[0], step[1]);
      scheduler.advance(step[1]);
    }
  }
  recorder.close(session.nowMs);
  session.close();
  return path;
}

const tap = (keys: string): (readonly [Key, number])[] => [...keys].map((k) => [k as Key, tapPressMs] as const);
const loginScript = [['PRESS', holdPressMs] as const, ...tap('4826'), ['OK', tapPressMs] as const, ...tap('123456'), ['OK', tapPressMs] as const, idleTimeoutMs + 1];

describe('session log', () => {
  it('a recorded login (power on, PIN, challenge, response, auto power-off) replays frame for frame', () => {
    const path = record('dscplus', loginScript, 'login.ndjson');
    const lines = parseSessionLog(readFileSync(path, 'utf8'));
    const frames = lines.filter((line) => line.type === 'frame');
    expect(frames.map((f) => (f.type === 'frame' ? f.text : ''))).toContain('CHALLNG>');
    expect(frames.at(-1)).toMatchObject({ text: '' }); // auto power-off was recorded
    const result = replaySessionLog(lines);
    expect(result).toMatchObject({ ok: true, mismatches: [] });
    expect(result.frames).toBe(frames.length);
    expect(result.keys).toBe(2 * (1 + 4 + 1 + 6 + 1));
  });

  it('a digipass card locked by wrong PINs replays with the same lock code (the logged entropy)', () => {
    const wrong = [...tap('1357'), ['OK', tapPressMs] as const, messageMs];
    const script = [['PRESS', holdPressMs] as const, ...Array.from({ length: wrongPinsMax }, () => wrong).flat()];
    const path = record('digipass', script, 'lock.ndjson');
    const lines = parseSessionLog(readFileSync(path, 'utf8'));
    expect(lines.some((line) => line.type === 'frame' && /^L\d{7}$/.test(line.text))).toBe(true);
    expect(replaySessionLog(lines).ok).toBe(true);
  });

  it('a log whose recorded frame was altered fails the replay and names the frame (dsc press --replay exits 1)', async () => {
    const path = record('dscplus', loginScript, 'altered.ndjson');
    const text = readFileSync(path, 'utf8').replace('"text":"CHALLNG>"', '"text":"CHALLNGX"');
    writeFileSync(path, text);
    const result = replaySessionLog(parseSessionLog(text));
    expect(result.ok).toBe(false);
    expect(result.mismatches.join('\n')).toMatch(/recorded #\d+ "CHALLNGX", replay #\d+ "CHALLNG>"/);
    const cli = await runDscInProcess(['press', '--replay', path]);
    expect(cli.status).toBe(1);
    expect(cli.stdout).toContain('replay FAILED');
  });

  it('a log holds the whole card (so it is owner-only), and dsc emulate --help says so', async () => {
    const path = record('dscplus', loginScript, 'private.ndjson');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const start = parseSessionLog(readFileSync(path, 'utf8'))[0];
    expect(start).toMatchObject({ type: 'start', device: { deviceKey: expect.stringMatching(/^[0-9a-f]+$/) } });
    expect((await runDscInProcess(['emulate', '--help'])).stdout).toMatch(/holds the whole card, its secret included/);
  });

  it('never overwrites an existing file when asked to record into it', () => {
    const path = join(work, 'kept.ndjson');
    writeFileSync(path, 'a session someone kept\n');
    const device = newDeviceRecord({ profile: 'dscplus', pin: '4826', clockMs: startMs });
    expect(() => SessionRecorder.create(path, device, (n) => new Uint8Array(n))).toThrow(/already exists \(not overwritten\)/);
    expect(readFileSync(path, 'utf8')).toBe('a session someone kept\n');
  });

  it('dsc press --replay on a good log exits 0', async () => {
    const path = record('digipass', loginScript, 'ok.ndjson');
    const cli = await runDscInProcess(['press', '--replay', path]);
    expect(cli.stdout).toMatch(/^replay ok: 26 key events, \d+ frames matched/);
    expect(cli.status).toBe(0);
  });

  const good = () => readFileSync(record('dscplus', loginScript.slice(0, 3), `base-${Math.random().toString(36).slice(2)}.ndjson`), 'utf8').split('\n');
  const corruptions: readonly [string, (lines: string[]) => string, RegExp][] = [
    ['empty', () => '', /first line must be the "start" line/],
    ['not JSON', (l) => [l[0], '{"type":"key",', ...l.slice(1)].join('\n'), /line 2: not JSON/],
    ['truncated start line', (l) => [l[0]!.slice(0, 40), ...l.slice(1)].join('\n'), /line 1: not JSON/],
    ['unknown key', (l) => [...l, '{"type":"key","event":"down","key":"X","atMs":1,"frame":1}'].join('\n'), /"key" expected one of 0 1 .* PRESS, got "X"/],
    ['frame over 8 characters', (l) => [...l, '{"type":"frame","number":9,"text":"123456789","indicators":{"lowBattery":false,"locked":false},"atMs":1}'].join('\n'), /not a display frame/],
    ['wrong version', (l) => [l[0]!.replace('"version":1,', '"version":2,'), ...l.slice(1)].join('\n'), /"version" expected 1, got 2/],
    ['two start lines', (l) => [l[0], ...l].join('\n'), /more than one "start" line/],
    ['a corrupt device record', (l) => [l[0]!.replace(/"image":"[0-9a-f]{2}/, '"image":"zz'), ...l.slice(1)].join('\n'), /"device"/],
    ['unknown line type', (l) => [...l, '{"type":"beep"}'].join('\n'), /"type" expected start, entropy, key, frame or end, got "beep"/],
  ];
  for (const [name, corrupt, message] of corruptions) {
    it(`refuses a log with ${name}, naming it (dsc press --replay exits 2, nothing written)`, async () => {
      const text = corrupt(good());
      expect(() => parseSessionLog(text)).toThrow(SessionLogError);
      expect(() => parseSessionLog(text)).toThrow(message);
      const path = join(work, `bad-${name.replace(/\W+/g, '-')}.ndjson`);
      writeFileSync(path, text);
      const cli = await runDscInProcess(['press', '--replay', path]);
      expect(cli.status).toBe(2);
      expect(cli.stderr).toMatch(message);
      expect(readFileSync(path, 'utf8')).toBe(text);
    });
  }
});
