/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The drawn card, the keypad highlight, the login page and the help, for both profiles: a real card on
 * the virtual clock and a real host on in-memory SQLite, rendered by Ink into ink-testing-library.
 * The LCD is read back by its glyph shapes (support/read-lcd.ts), never from the firmware.
 */
import { render } from 'ink-testing-library';
import { ocra, parseSuite } from '../../firmware/ocra/index.ts';
import { enrolmentData } from '../../firmware/device-record.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { holdPressMs, tapPressMs } from '../../emulator/ui/keymap.ts';
import { Keypad, keypadRows, keyCap } from '../../emulator/ui/Keypad.tsx';
import { Help } from '../../emulator/ui/Help.tsx';
import { helpScreens } from '../../emulator/ui/screen-table.ts';
import { LoginModel, loginOkText } from '../../emulator/ui/login-model.ts';
import { newDeviceRecord } from '../../emulator/card.ts';
import { openHost } from '../../host/index.ts';
import { messageMs, wrongPinsMax, type Profile } from '../../firmware/types.ts';
import { enterPassword, makeRig, pass, settle, testPins, type, type Rig } from './support/card-under-test.tsx';
import { readLcd } from './support/read-lcd.ts';

const profiles: readonly Profile[] = ['dscplus', 'digipass'];
let rig: Rig | undefined;
afterEach(async () => {
  rig?.close();
  rig = undefined;
});

/** Type the keys for the card, then let every press be released on the virtual clock. */
async function typeOnCard(r: Rig, keys: string): Promise<void> {
  await type(r, keys);
  // Exactly until the last key is released: a message shown by the last key is still on screen.
  while (r.driver.held !== undefined) await pass(r, r.scheduler.nextDueInMs ?? 0);
}

async function powerOn(r: Rig): Promise<void> {
  await typeOnCard(r, 'h');
}

describe.each(profiles)('the drawn card (%s)', (profile) => {
  it('draws the card off, then PIN> in large glyphs after a 2 s hold of PRESS, with serial, battery and profile', async () => {
    rig = await makeRig(profile);
    const off = rig.screenText();
    expect(readLcd(off)).toMatchObject({ glyphs: '', plain: '', size: 'large' });
    expect(off).toContain(`S/N ${rig.session.info.serial}`);
    expect(off).toContain('100%');
    expect(off.includes('(digipass)')).toBe(profile === 'digipass');
    await powerOn(rig);
    expect(readLcd(rig.screenText())).toMatchObject({ glyphs: 'PIN>', plain: 'PIN>' });
  });

  it('a short PRESS on a card that is off does nothing (the hold is what powers it on)', async () => {
    rig = await makeRig(profile);
    await typeOnCard(rig, 'p');
    expect(readLcd(rig.screenText()).glyphs).toBe('');
  });

  it('masks the PIN with one dash per digit and Backspace takes one back', async () => {
    rig = await makeRig(profile);
    await powerOn(rig);
    await typeOnCard(rig, '123');
    expect(readLcd(rig.screenText()).glyphs).toBe('PIN>---');
    await typeOnCard(rig, '\x7f');
    expect(readLcd(rig.screenText()).glyphs).toBe('PIN>--');
  });

  it('compact at 80×24: the whole window fits and the LCD still reads', async () => {
    rig = await makeRig(profile, 80, 24);
    await powerOn(rig);
    const screen = rig.screenText();
    const lines = screen.split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
    expect(readLcd(screen)).toMatchObject({ glyphs: 'PIN>', size: 'compact' });
  });

  it('below 80×24 says so instead of drawing the card', async () => {
    rig = await makeRig(profile, 79, 24);
    expect(rig.screenText()).toContain('the card needs at least 80×24');
    expect(rig.screenText()).not.toContain('PRESS');
    rig.close();
    rig = await makeRig(profile, 100, 23);
    expect(rig.screenText()).toContain('is 100×23');
  });
});

describe('keypad highlight', () => {
  it('lights exactly the key being pressed, for the tap time, then none', async () => {
    rig = await makeRig('dscplus');
    await powerOn(rig);
    await type(rig, '5');
    const lit = rig.screenText();
    expect(lit).toContain(keyCap('5', true));
    expect(lit.split(/[▸]/).length - 1).toBe(1);
    await pass(rig, tapPressMs - 1);
    expect(rig.screenText()).toContain(keyCap('5', true));
    await pass(rig, 1);
    expect(rig.screenText()).not.toContain('▸');
    expect(rig.screenText()).toContain(keyCap('5', false));
  });

  it('holds PRESS lit for the whole hold, and queues keys typed meanwhile in order', async () => {
    rig = await makeRig('digipass');
    await type(rig, 'h12');
    expect(rig.screenText()).toContain(keyCap('PRESS', true));
    expect(rig.driver.queued).toBe(2);
    await pass(rig, holdPressMs - 1);
    expect(rig.screenText()).toContain(keyCap('PRESS', true));
    await pass(rig, 1);
    await pass(rig, tapPressMs);
    await pass(rig, tapPressMs);
    expect(readLcd(rig.screenText()).glyphs).toBe('PIN>--');
  });

  for (const row of keypadRows) {
    for (const key of row) {
      it(`draws ${key} lit and the others at rest`, async () => {
        const { lastFrame, unmount } = render(<Keypad pressed={key} />);
        const frame = lastFrame() ?? '';
        expect(frame).toContain(keyCap(key, true));
        for (const other of keypadRows.flat().filter((k) => k !== key)) expect(frame).toContain(keyCap(other, false));
        unmount();
      });
    }
  }
});

describe.each(profiles)('the login page (%s)', (profile) => {
  it('logs in: the response read off the drawn LCD, typed into the page, gives LOGIN OK (and equals OCRA on the secret)', async () => {
    rig = await makeRig(profile);
    const challenge = rig.login.state.challenge!;
    expect(challenge).toMatch(/^\d{6}$/);
    expect(rig.screenText()).toContain(`Challenge: ${challenge}`);
    await powerOn(rig);
    await typeOnCard(rig, `${testPins[profile]}\r`);
    await pass(rig, messageMs); // digipass may show a message first; nothing does on the happy path
    await typeOnCard(rig, `${challenge}\r`);
    const response = readLcd(rig.screenText()).glyphs;
    expect(response).toMatch(/^\d{8}$/);
    // An independent computation: the RFC 6287 engine on the unsealed secret, the challenge and (P suites) the PIN.
    const data = enrolmentData(rig.record);
    const suite = parseSuite(data.suite);
    expect(response).toBe(ocra(suite, data.secret, { challenge, ...(suite.pin && { pin: testPins[profile] }) }));
    data.secret.fill(0);
    await type(rig, '\t');
    expect(rig.screenText()).toContain('keys → LOGIN PAGE');
    await type(rig, `${response}\r`);
    expect(rig.screenText()).toContain(`✔ ${loginOkText}`);
    expect(rig.login.state.challenge).not.toBe(challenge);
  });

  it('rejects a wrong response with the host\'s reason, and keeps the challenge for another try', async () => {
    rig = await makeRig(profile);
    const challenge = rig.login.state.challenge!;
    await type(rig, '\t12345678\r');
    expect(rig.screenText()).toContain('✘ wrong response');
    expect(rig.screenText()).not.toContain(loginOkText);
    expect(rig.login.state.challenge).toBe(challenge);
  });

  it('routes digits by focus: typed on the login page they never reach the card', async () => {
    rig = await makeRig(profile);
    await powerOn(rig);
    await type(rig, '\t99');
    expect(rig.screenText()).toContain('Response:  99');
    expect(readLcd(rig.screenText()).glyphs).toBe('PIN>');
    await type(rig, '\t9');
    await pass(rig, tapPressMs);
    expect(readLcd(rig.screenText()).glyphs).toBe('PIN>-');
  });
});

describe('change PIN on the server (dscplus)', () => {
  it('is offered only after a login on the page', async () => {
    rig = await makeRig('dscplus');
    expect(rig.screenText()).not.toContain('n change PIN');
    await type(rig, '\tn');
    expect(rig.login.state.mode).toBe('login');
    expect(rig.screenText()).toContain('log in first');
  });

  it('answering the PIN-change challenge with the NEW PIN commits it; then only the new PIN logs in', async () => {
    rig = await makeRig('dscplus');
    const newPin = '7391';
    await powerOn(rig);
    await typeOnCard(rig, `${testPins.dscplus}\r${rig.login.state.challenge!}\r`);
    await type(rig, `\t${readLcd(rig.screenText()).glyphs}\r`);
    expect(rig.screenText()).toContain(`✔ ${loginOkText}`);
    expect(rig.screenText()).toContain('n change PIN');
    await type(rig, `n${newPin}\r${newPin}\r`);
    const challenge = rig.login.state.challenge!;
    expect(rig.screenText()).toContain('answer with the NEW PIN');
    expect(rig.screenText()).toContain(`Challenge: ${challenge}`);
    await type(rig, '\t');
    await typeOnCard(rig, 'h');
    await typeOnCard(rig, 'h');
    await typeOnCard(rig, `${newPin}\r${challenge}\r`);
    const response = readLcd(rig.screenText()).glyphs;
    await type(rig, `\t${response}\r`);
    expect(rig.screenText()).toContain('✔ PIN CHANGED');
    // The old PIN now gives a response the host rejects.
    await enterPassword(rig.login);
    await settle();
    const next = rig.login.state.challenge!;
    await type(rig, '\t');
    await typeOnCard(rig, 'h');
    await typeOnCard(rig, 'h');
    await typeOnCard(rig, `${testPins.dscplus}\r${next}\r`);
    const stale = readLcd(rig.screenText()).glyphs;
    await type(rig, `\t${stale}\r`);
    expect(rig.screenText()).toContain('✘ wrong response');
  });
});

describe('digipass lock indicator', () => {
  it(`shows FAIL n on a wrong PIN and lights LOCKED after ${wrongPinsMax} wrong PINs`, async () => {
    rig = await makeRig('digipass');
    await powerOn(rig);
    for (let attempt = 1; attempt <= wrongPinsMax; attempt++) {
      await typeOnCard(rig, '1357\r');
      const reading = readLcd(rig.screenText()).glyphs;
      if (attempt < wrongPinsMax) {
        expect(reading).toBe(`FAIL ${attempt}`);
        await pass(rig, messageMs);
      } else {
        expect(reading).toBe('LOCK PIN');
      }
    }
    await pass(rig, messageMs);
    const screen = rig.screenText();
    expect(readLcd(screen).glyphs).toMatch(/^L\d{7}$/);
    expect(screen).toContain('LOCKED');
  });
});

describe('unlock a locked digipass card from the login page', () => {
  it('u + the lock code read off the LCD gives the unlock code; typed into the card it asks for a new PIN', async () => {
    rig = await makeRig('digipass');
    await powerOn(rig);
    for (let attempt = 1; attempt <= wrongPinsMax; attempt++) {
      await typeOnCard(rig, '1357\r');
      await pass(rig, messageMs);
    }
    const lockCode = readLcd(rig.screenText()).glyphs.slice(1);
    expect(lockCode).toMatch(/^\d{7}$/);
    await type(rig, `\tu${lockCode}\r`);
    const unlock = /unlock code (\d{8})/.exec(rig.screenText())?.[1];
    expect(unlock).toBeDefined();
    await type(rig, '\t');
    await typeOnCard(rig, '\r'); // OK on the lock code opens the unlock entry
    expect(readLcd(rig.screenText()).glyphs).toBe('UNLOCK>');
    await typeOnCard(rig, `${unlock}\r`);
    expect(readLcd(rig.screenText()).glyphs).toBe('NEW PIN');
  });
});

describe.each(profiles)('help (%s)', (profile) => {
  const screens = helpScreens();
  const ofProfile = screens.filter((screen) => screen.profiles.includes(profile));

  it('? shows the key map, ? again this profile\'s screens from fixtures/screens.json, ? again closes', async () => {
    rig = await makeRig(profile);
    await type(rig, '?');
    const keysPage = rig.screenText();
    expect(keysPage).toContain('Terminals send no key-up');
    expect(keysPage).toContain('h or Space');
    expect(keysPage).not.toContain('(  PRESS  )');
    await type(rig, '?');
    const screensPage = rig.screenText();
    expect(screensPage).toContain(`Screens of the ${profile} card`);
    expect(screensPage).toContain('PIN>----');
    // LOCK PIN is a digipass screen only.
    expect(screensPage.includes('LOCK PIN')).toBe(profile === 'digipass');
    // While help is open, keys do not reach the card.
    await typeOnCard(rig, 'h');
    expect(rig.driver.held).toBeUndefined();
    await type(rig, '?');
    expect(rig.screenText()).toContain('(  PRESS  )');
    expect(readLcd(rig.screenText()).glyphs).toBe('');
  });

  it('at 80×24 both help pages fit the terminal', async () => {
    rig = await makeRig(profile, 80, 24);
    for (const page of ['keys', 'screens']) {
      await type(rig, '?');
      const lines = rig.screenText().split('\n');
      expect(lines.length, `${page} page`).toBeLessThanOrEqual(24);
      for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
    }
  });

  it('cuts the screen table to the terminal height and says how many more there are', async () => {
    const { lastFrame, unmount } = render(<Help page="screens" screens={screens} profile={profile} columns={80} rows={8} />);
    const frame = lastFrame() ?? '';
    const more = /… (\d+) more in docs\/screens\.md/.exec(frame);
    expect(more).not.toBeNull();
    const listed = ofProfile.filter((screen) => frame.includes(screen.meaning.slice(0, 20))).length;
    expect(listed + Number(more![1])).toBe(ofProfile.length);
    unmount();
  });
});

describe('a locked account on the login page', () => {
  it('says so and names the unlock command the shell gave it (the demo gives its own)', async () => {
    const host = await openHost({ dbPath: ':memory:', passwordCost: { N: 16, r: 8, p: 1 }, lockLimit: 2 });
    await host.enroll({ user: 'alice', record: newDeviceRecord({ profile: 'dscplus', pin: '4826', clockMs: Date.UTC(2026, 0, 1) }) });
    await host.setPassword({ user: 'alice', password: '2468013579' });
    const login = new LoginModel(host, 'alice', () => {}, 'unlock with npx dsc host unlock --user alice --db .dsc/demo-host.sqlite');
    await login.start();
    for (let i = 0; i < 2; i++) {
      for (const digit of '1111111111') login.typeDigit(digit);
      await login.submit();
    }
    expect(login.state.verdict).toEqual({ ok: false, text: 'wrong password' });
    expect(login.state.notice).toBe('locked after too many failures: unlock with npx dsc host unlock --user alice --db .dsc/demo-host.sqlite');
    await host.close();
  });
});
