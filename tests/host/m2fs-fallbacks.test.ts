import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import { afterAll, describe, expect, it } from 'vitest';
import { enrolmentData } from '../../firmware/device-record.ts';
import { unlockCode } from '../../firmware/unlock.ts';
import { businessWindowStartMs, codeCardCodes, codeCardValidMs, openHost, tempCodeFullMs, tempCodePrintMs, withdrawalLimits } from '../../host/index.ts';
import { hostKey, loginSession, testHost } from './support/clock.ts';
import { cardResponse, makeRecord, secret20 } from './support/devices.ts';

const dayMs = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'dsc-host-m2fs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('withdrawal limits (IBKR KB2895)', () => {
  it('carries the table of the Secure Login System', async () => {
    expect(withdrawalLimits['security-code-card']).toEqual({ dailyUsd: 200_000, fiveBusinessDaysUsd: 600_000 });
    expect(withdrawalLimits['mobile-app']).toEqual({ dailyUsd: 200_000, fiveBusinessDaysUsd: 600_000 });
    expect(withdrawalLimits.dsc).toEqual({ dailyUsd: 1_000_000, fiveBusinessDaysUsd: 1_500_000 });
    expect(withdrawalLimits.dscplus.dailyUsd).toBe(Number.POSITIVE_INFINITY);
  });

  it('counts five business days back, weekends inside the window', async () => {
    // Monday 2026-01-12 -> the window starts Tuesday 2026-01-06 (Tue, Wed, Thu, Fri, Mon).
    expect(businessWindowStartMs(Date.UTC(2026, 0, 12, 15))).toBe(Date.UTC(2026, 0, 6));
    // Saturday 2026-01-10 counts no business day itself -> Mon 5th..Fri 9th.
    expect(businessWindowStartMs(Date.UTC(2026, 0, 10, 12))).toBe(Date.UTC(2026, 0, 5));
    // Friday 2026-01-09 -> Monday 2026-01-05.
    expect(businessWindowStartMs(Date.UTC(2026, 0, 9, 23))).toBe(Date.UTC(2026, 0, 5));
  });
});

describe('several devices per user (M2FS)', () => {
  async function setup() {
    const { host, clock } = await testHost();
    const plus = makeRecord({ serial: 1001 });
    const dsc = makeRecord({ serial: 1002, profile: 'digipass' });
    const app = makeRecord({ serial: 1003, profile: 'digipass', secret: new Uint8Array(20).fill(5) });
    await host.enroll({ user: 'trader1', record: plus });
    await host.enroll({ user: 'trader1', record: dsc });
    await host.enroll({ user: 'trader1', record: app, kind: 'mobile-app' });
    const session = await loginSession(host, 'trader1', (c) => cardResponse(plus, c, '1234'), '1001');
    return { host, clock, plus, dsc, app, session };
  }

  it('lists every active device and asks which one to use', async () => {
    const { host , session } = await setup();
    expect((await host.devices('trader1')).map((d) => [d.serial, d.kind])).toEqual([['1001', 'dscplus'], ['1002', 'dsc'], ['1003', 'mobile-app']]);
    await expect(host.challenge({ user: 'trader1' })).rejects.toThrow(/3 devices .*choose one/);
    expect((await host.challenge({ user: 'trader1', serial: '1002' })).serial).toBe('1002');
    await expect(host.challenge({ user: 'trader1', serial: '9999' })).rejects.toThrow(/no active device 9999/);
  });

  it('a withdrawal needs a fresh response from a device whose limit covers it', async () => {
    const { host, dsc, plus , session } = await setup();
    await expect(host.authorizeWithdrawal({ user: 'trader1', session, amountUsd: 250_000, serial: '1003' })).rejects.toThrow(/mobile-app covers USD 200,000 a day/);
    const issued = await host.authorizeWithdrawal({ user: 'trader1', session, amountUsd: 250_000, serial: '1002' });
    expect(await host.verify({ user: 'trader1', challenge: issued.challenge, response: cardResponse(dsc, issued.challenge), purpose: 'withdrawal' })).toEqual({ ok: true, serial: '1002', purpose: 'withdrawal', amountUsd: 250_000 });
    // 250,000 + 800,000 > 1,000,000 a day for a DSC: only the DSC+ covers it now.
    await expect(host.authorizeWithdrawal({ user: 'trader1', session, amountUsd: 800_000, serial: '1002' })).rejects.toThrow(/1,000,000 a day/);
    const big = await host.authorizeWithdrawal({ user: 'trader1', session, amountUsd: 800_000 });
    expect(big.serial).toBe('1001');
    expect(await host.verify({ user: 'trader1', challenge: big.challenge, response: cardResponse(plus, big.challenge, '1234'), purpose: 'withdrawal' })).toMatchObject({ ok: true, amountUsd: 800_000 });
  });

  it('keeps a running five-business-day total across days', async () => {
    const { host, clock, dsc, plus } = await setup();
    const withdraw = async (amount: number) => {
      const session = await loginSession(host, 'trader1', (c) => cardResponse(plus, c, '1234'), '1001');
      const issued = await host.authorizeWithdrawal({ user: 'trader1', session, amountUsd: amount, serial: '1002' });
      return await host.verify({ user: 'trader1', challenge: issued.challenge, response: cardResponse(dsc, issued.challenge), purpose: 'withdrawal' });
    };
    expect(await withdraw(900_000)).toMatchObject({ ok: true }); // Monday
    clock.advance(dayMs);
    expect(await withdraw(500_000)).toMatchObject({ ok: true }); // Tuesday: 1,400,000 in the window
    clock.advance(dayMs);
    await expect(withdraw(200_000)).rejects.toThrow(/1,500,000 in five business days/);
    clock.advance(5 * dayMs); // the next Monday: Monday's 900,000 has left the window
    expect(await withdraw(900_000)).toMatchObject({ ok: true });
  });

  it('re-checks the limit when the response arrives (another withdrawal may have used it meanwhile)', async () => {
    const { host, dsc , session } = await setup();
    const a = await host.authorizeWithdrawal({ user: 'trader1', session, amountUsd: 600_000, serial: '1002' });
    const b = await host.authorizeWithdrawal({ user: 'trader1', session, amountUsd: 600_000, serial: '1002' });
    expect(await host.verify({ user: 'trader1', challenge: a.challenge, response: cardResponse(dsc, a.challenge), purpose: 'withdrawal' })).toMatchObject({ ok: true });
    expect(await host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(dsc, b.challenge), purpose: 'withdrawal' })).toMatchObject({ ok: false, reason: 'limit exceeded' });
  });

  it('a device shared by two users: each logs in with it, failures count on the device', async () => {
    const { host, plus , session } = await setup();
    await host.assign({ user: 'trader1-ira', serial: '1001' });
    expect((await host.devices('trader1-ira')).map((d) => d.serial)).toEqual(['1001']);
    const c = await host.challenge({ user: 'trader1-ira' });
    expect(await host.verify({ user: 'trader1-ira', challenge: c.challenge, response: cardResponse(plus, c.challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: true });
    const w = await host.challenge({ user: 'trader1', serial: '1001' });
    await host.verify({ user: 'trader1', challenge: w.challenge, response: '00000000', purpose: 'login' });
    expect((await host.devices('trader1-ira'))[0]!.failures).toBe(1);
    await host.assign({ user: 'trader1-ira', serial: '1001', active: false });
    await expect(host.challenge({ user: 'trader1-ira' })).rejects.toThrow(/no usable device/);
  });
});

describe('digipass unlock codes', () => {
  it('derive the firmware unlock code from the lock code', async () => {
    const { host } = await testHost();
    const record = makeRecord({ serial: 77, profile: 'digipass' });
    await host.enroll({ user: 'u', record });
    const data = enrolmentData(record);
    expect(await host.unlockCode({ serial: '77', lockCode: '4811270' })).toBe(unlockCode(data.secret, '4811270'));
    data.secret.fill(0);
    await expect(host.unlockCode({ serial: '77', lockCode: '12' })).rejects.toThrow(/7 digits/);
    await host.enroll({ user: 'u', record: makeRecord({ serial: 78 }) });
    await expect(host.unlockCode({ serial: '78', lockCode: '4811270' })).rejects.toThrow(/only digipass/);
  });
});

describe('temporary code and online Security Code Card (IBKR KB70, KB69, KB1873)', () => {
  it('gives full access for 2 days, then only printing a card for 10 days; never two in a row', async () => {
    const { host, clock } = await testHost();
    const record = makeRecord({ serial: 5 });
    await host.enroll({ user: 'trader1', record });
    await expect(host.issueTempCode({ user: 'nobody' })).rejects.toThrow(/unknown user/);
    const { code } = await host.issueTempCode({ user: 'trader1' });
    expect(code).toMatch(/^[2-9A-Z]{10}$/);
    await expect(host.issueTempCode({ user: 'trader1' })).rejects.toThrow(/never two in a row/);
    expect(await host.checkTempCode({ user: 'trader1', code })).toEqual({ ok: true, access: 'full' });
    expect(await host.checkTempCode({ user: 'trader1', code: 'ZZZZZZZZZZ' })).toEqual({ ok: false, reason: 'wrong code', locked: false });
    clock.advance(tempCodeFullMs);
    expect(await host.checkTempCode({ user: 'trader1', code })).toEqual({ ok: true, access: 'print-card' });
    clock.advance(tempCodePrintMs);
    expect(await host.checkTempCode({ user: 'trader1', code })).toEqual({ ok: false, reason: 'expired' });
    // A login with the device in between allows a new temporary code.
    const c = await host.challenge({ user: 'trader1' });
    expect(await host.verify({ user: 'trader1', challenge: c.challenge, response: cardResponse(record, c.challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: true });
    expect((await host.issueTempCode({ user: 'trader1' })).code).not.toBe(code);
  });

  it('prints 224 codes; the login asks two indexes; valid 21 days; withdrawal limit of a code card', async () => {
    const { host, clock } = await testHost();
    await host.enroll({ user: 'trader1', record: makeRecord({ serial: 6 }) });
    await expect(host.issueCodeCard({ user: 'trader1', tempCode: 'ABCDEFGHJK' })).rejects.toThrow(/temporary code refused/);
    const { code } = await host.issueTempCode({ user: 'trader1' });
    clock.advance(tempCodeFullMs + dayMs); // print-only phase still allows printing the card
    const card = await host.issueCodeCard({ user: 'trader1', tempCode: code });
    expect(card.codes).toHaveLength(codeCardCodes);
    for (const c of card.codes) expect(c).toMatch(/^\d{3}$/);
    const issued = await host.challenge({ user: 'trader1', serial: card.serial });
    const [i, j] = issued.indexes!;
    expect(i).not.toBe(j);
    expect(issued.challenge).toBe(`${String(i).padStart(3, '0')}-${String(j).padStart(3, '0')}`);
    const answer = card.codes[i - 1]! + card.codes[j - 1]!;
    const wrongAnswer = card.codes[j - 1]! + card.codes[i - 1]!;
    if (wrongAnswer !== answer) expect(await host.verify({ user: 'trader1', challenge: issued.challenge, response: wrongAnswer, purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
    const login = await host.verify({ user: 'trader1', challenge: issued.challenge, response: answer, purpose: 'login' });
    expect(login).toMatchObject({ ok: true, serial: card.serial });
    const session = login.ok ? login.session!.token : '';
    await expect(host.authorizeWithdrawal({ user: 'trader1', session, amountUsd: 200_001, serial: card.serial })).rejects.toThrow(/200,000 a day/);
    clock.advance(codeCardValidMs);
    await expect(host.challenge({ user: 'trader1', serial: card.serial })).rejects.toThrow(/expired/);
  });
});

describe('secrets at rest and the audit table', () => {
  it('the database file never holds the secret, the PIN or a response; the audit names decisions only', async () => {
    const dbPath = join(dir, 'sealed.sqlite');
    const host = await openHost({ dbPath, hostKey, now: () => Date.UTC(2026, 0, 5, 9) });
    const record = makeRecord({ serial: 31, pin: '8642' });
    await host.enroll({ user: 'trader1', record });
    const c = await host.challenge({ user: 'trader1' });
    const response = cardResponse(record, c.challenge, '8642');
    await host.verify({ user: 'trader1', challenge: c.challenge, response: response.slice(0, -1) + ((Number(response.at(-1)) + 1) % 10), purpose: 'login' });
    const login = await host.verify({ user: 'trader1', challenge: c.challenge, response, purpose: 'login' });
    const pin = await host.requestPinChange({ user: 'trader1', session: login.ok ? login.session!.token : '', newPin: '1357', confirmPin: '1357' });
    await host.verify({ user: 'trader1', challenge: pin.challenge, response: cardResponse(record, pin.challenge, '1357'), purpose: 'pin-change' });
    const entries = await host.auditLog({ limit: 100 });
    await host.close();
    const bytes = Buffer.concat([readFileSync(dbPath), ...['-wal'].flatMap((s) => { try { return [readFileSync(dbPath + s)]; } catch { return []; } })]);
    const text = bytes.toString('latin1');
    for (const needle of ['12345678901234567890', bytesToHex(secret20), '8642', '1357', response]) {
      expect(text.includes(needle), `database contains ${needle}`).toBe(false);
    }
    expect(entries.map((e) => `${e.action}:${e.outcome}`)).toEqual(['pin-change:ok', 'pin-change:ok', 'verify:ok', 'account:failed', 'verify:failed', 'challenge:ok', 'enroll:ok']);
    for (const e of entries) expect(JSON.stringify(e)).not.toContain(response);
  });

  it('a different host key cannot open the sealed secrets', async () => {
    const dbPath = join(dir, 'wrong-key.sqlite');
    const first = await openHost({ dbPath, hostKey });
    await first.enroll({ user: 'trader1', record: makeRecord({ serial: 32 }) });
    await first.close();
    // Refused at open, before anything is written, by the key check value the database keeps.
    await expect(openHost({ dbPath, hostKey: new Uint8Array(32).fill(1) })).rejects.toThrow(/not the key of/);
  });
});
