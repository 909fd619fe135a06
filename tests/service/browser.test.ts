/**
 * The login page in a real headless Chromium against a real `dsc host serve`: password, the choice between
 * two devices, the challenge answered by `dsc respond` on the card's device file, the verdict; then a PIN
 * change (answered with the new PIN) and a withdrawal inside the device's limits, all through the page.
 * Without Chromium the test is skipped with a printed reason, except under CI=true, where it fails.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDsc } from '../support/cli.ts';
import { startServe, type ServeProcess } from './support/serve-process.ts';

const chromiumPath = '/usr/bin/chromium';
const inCi = process.env.CI === 'true';
const skipReason = existsSync(chromiumPath) || inCi ? null : `${chromiumPath} is not installed: skipping the login page's browser test (apt-get install chromium; CI=true makes this a failure)`;
if (skipReason) console.warn(`tests/service: ${skipReason}`);

let dir: string;
let serve: ServeProcess;
let context: BrowserContext;
let page: Page;

function respond(card: string, pin: string, challenge: string): string {
  const r = runDsc(['respond', '--device', card, '--pin', '-', '--challenge', challenge], { cwd: dir, input: `${pin}\n` });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

async function verdict(): Promise<string> {
  const el = page.locator('#verdict');
  await expect.poll(async () => (await el.textContent()) ?? '', { timeout: 20_000 }).not.toBe('');
  return (await el.textContent()) ?? '';
}

describe.skipIf(skipReason !== null)('the login page in Chromium', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsc-browser-'));
    for (const [card, serial] of [['a.json', '61000001'], ['b.json', '61000002']] as const) {
      expect(runDsc(['provision', '--pin', '2580', '--serial', serial, '--out', card], { cwd: dir }).status).toBe(0);
    }
    expect(runDsc(['host', 'enroll', '--user', 'trader1', '--device', 'a.json', '--db', 'host.sqlite'], { cwd: dir }).status).toBe(0);
    expect(runDsc(['host', 'enroll', '--user', 'trader1', '--device', 'b.json', '--kind', 'dsc', '--db', 'host.sqlite'], { cwd: dir }).status).toBe(0);
    const pw = runDsc(['host', 'set-password', '--user', 'trader1', '--password', '-', '--db', 'host.sqlite'], { cwd: dir, input: 'correct horse battery\n' });
    expect(pw.status, pw.stderr).toBe(0);
    serve = await startServe(['--db', 'host.sqlite'], { cwd: dir });
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 240_000);
  afterAll(async () => {
    await context?.close();
    const stopped = await serve?.stop();
    expect(stopped?.code).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in with password, device choice and the card\'s answer; changes the PIN; authorises a withdrawal', async () => {
    await page.goto(`${serve.url}/`);
    await page.fill('#user', 'trader1');
    await page.fill('#password', 'wrong password!');
    await page.click('#start-button');
    expect(await verdict()).toContain('wrong password');

    await page.fill('#password', 'correct horse battery');
    await page.click('#start-button');
    await page.locator('#device-choice').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.locator('#device option').allTextContents()).toEqual(['61000001 (dscplus)', '61000002 (dsc)']);
    await page.selectOption('#device', '61000001');
    await page.fill('#password', 'correct horse battery');
    await page.click('#start-button');
    await page.locator('#answer').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.textContent('#answer-device')).toBe('61000001');
    const challenge = (await page.textContent('#challenge'))!;
    expect(challenge).toMatch(/^\d{6}$/);
    await page.fill('#response', respond('a.json', '2580', challenge));
    await page.click('#answer-button');
    expect(await verdict()).toBe('LOGIN OK');

    // PIN change: the page shows a new challenge, answered with the NEW PIN.
    await page.fill('#new-pin', '1357');
    await page.fill('#confirm-pin', '1357');
    await page.click('#pin-change-button');
    await expect.poll(async () => page.textContent('#answer-pin'), { timeout: 20_000 }).toBe('NEW PIN');
    const pinChallenge = (await page.textContent('#challenge'))!;
    await page.fill('#response', respond('a.json', '1357', pinChallenge));
    await page.click('#answer-button');
    await expect.poll(async () => page.textContent('#verdict'), { timeout: 20_000 }).toBe('PIN CHANGED');

    // The withdrawal form shows the limits of the user's devices.
    const limits = await page.locator('#limits tbody tr').allTextContents();
    expect(limits).toEqual(['dsc1,000,0001,500,000', 'dscplusunlimitedunlimited']);
    await page.fill('#amount', '5000');
    await page.selectOption('#withdrawal-device', '61000001');
    await page.click('#withdrawal-button');
    await expect.poll(async () => page.textContent('#answer-legend'), { timeout: 20_000 }).toBe('Authorise USD 5000');
    const withdrawalChallenge = (await page.textContent('#challenge'))!;
    // The old PIN no longer works: the server changed it.
    await page.fill('#response', respond('a.json', '2580', withdrawalChallenge));
    await page.click('#answer-button');
    await expect.poll(async () => page.textContent('#verdict'), { timeout: 20_000 }).toContain('wrong response');
    await page.fill('#response', respond('a.json', '1357', withdrawalChallenge));
    await page.click('#answer-button');
    await expect.poll(async () => page.textContent('#verdict'), { timeout: 20_000 }).toBe('WITHDRAWAL OF USD 5000 AUTHORISED');

    const audit = runDsc(['host', 'audit', '--user', 'trader1', '--db', 'host.sqlite'], { cwd: dir });
    expect(audit.stdout).toMatch(/withdrawal\tok\tUSD 5000 authorized/);
    expect(audit.stdout).toMatch(/pin-change\tok/);
  });
});
