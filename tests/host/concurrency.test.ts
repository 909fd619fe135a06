/**
 * Several real processes on one SQLite file: racing verifiers give exactly one success, and a verifier killed
 * with SIGKILL in the middle of its work leaves a consistent database; first creations racing each other all
 * succeed on one database.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { bytesToHex } from '@noble/hashes/utils.js';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeDeviceRecord } from '../../firmware/device-record.ts';
import { openHost, openHostFile } from '../../host/index.ts';
import { writeDeviceFile } from '../../emulator/device-file.ts';
import { dscPath } from '../support/cli.ts';
import { hostKey, unlimitedIssues } from './support/clock.ts';
import { cardResponse, makeRecord } from './support/devices.ts';

const worker = fileURLToPath(new URL('./support/verify-worker.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dsc-host-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, DSC_HOST_KEY: bytesToHex(hostKey) };
const racers = 6;

function runWorker(args: string[], extraEnv: Record<string, string> = {}, onReady = () => {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], { env: { ...env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.startsWith('ready\n')) {
        stdout = stdout.slice('ready\n'.length);
        onReady();
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('several verifier processes on one SQLite file', () => {
  it(`${racers} processes verifying the same challenge: exactly one success`, async () => {
    const dbPath = join(dir, 'race.sqlite');
    const record = makeRecord({ serial: 808 });
    const host = await openHost({ dbPath, hostKey });
    await host.enroll({ user: 'trader1', record });
    const { challenge } = await host.challenge({ user: 'trader1' });
    await host.close();
    const response = cardResponse(record, challenge, '1234');
    const go = join(dir, 'go');
    let ready = 0;
    // Every racer has opened the database and waits; then one file creation releases them together.
    const results = await Promise.all(Array.from({ length: racers }, () => runWorker(['verify', dbPath, 'trader1', challenge, response], { DSC_RACE_GO: go }, () => {
      if (++ready === racers) writeFileSync(go, '');
    })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const outcomes = results.map((r) => JSON.parse(r.stdout) as { ok: boolean; reason?: string });
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok).map((o) => o.reason)).toEqual(Array(racers - 1).fill('already used'));
    const db = new Database(dbPath, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM audit WHERE action = 'verify' AND outcome = 'ok'").pluck().get()).toBe(1);
    db.close();
  });

  it('a verifier killed with SIGKILL mid-verification leaves the database consistent', async () => {
    const dbPath = join(dir, 'killed.sqlite');
    const record = makeRecord({ serial: 909 });
    const devicePath = join(dir, 'card909.json');
    writeFileSync(devicePath, serializeDeviceRecord(record));
    const host = await openHost({ dbPath, hostKey });
    await host.enroll({ user: 'trader1', record });
    await host.close();
    const child = spawn(process.execPath, ['--import', 'tsx', worker, 'loop', dbPath, 'trader1', devicePath], { env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Kill it once it has committed a few hundred cycles: it is then always inside or between transactions.
    await new Promise<void>((resolve, reject) => {
      let seen = 0;
      child.stdout.on('data', (d: Buffer) => {
        seen = Math.max(seen, ...String(d).trim().split('\n').map(Number));
        if (seen >= 300) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('close', (code) => (code !== null ? reject(new Error(`worker ended by itself (${code}): ${stderr}`)) : undefined));
    });
    await new Promise((resolve) => child.on('close', resolve));
    expect(child.signalCode).toBe('SIGKILL');

    const db = new Database(dbPath);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const count = (sql: string) => db.prepare(sql).pluck().get() as number;
    const used = count("SELECT count(*) FROM challenges WHERE state = 'used'");
    expect(used).toBeGreaterThanOrEqual(300);
    // Each committed verification consumed its challenge and wrote its audit line in the same transaction.
    expect(count("SELECT count(*) FROM audit WHERE action = 'verify' AND outcome = 'ok'")).toBe(used);
    expect(count("SELECT count(*) FROM audit WHERE action = 'challenge'")).toBe(count('SELECT count(*) FROM challenges'));
    // At most the one challenge issued just before the kill is still open; nothing else is half done.
    expect(count("SELECT count(*) FROM challenges WHERE state = 'open'")).toBeLessThanOrEqual(1);
    expect(count("SELECT count(*) FROM challenges WHERE state NOT IN ('open', 'used')")).toBe(0);
    expect(count('SELECT failures FROM devices')).toBe(0);
    db.close();
    // The database still works for the next verifier.
    const after = await openHost({ dbPath, hostKey, issueLimits: unlimitedIssues });
    const { challenge } = await after.challenge({ user: 'trader1' });
    expect(await after.verify({ user: 'trader1', challenge, response: cardResponse(record, challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: true });
    await after.close();
  });

  // Attack 12 (tests/host/attacks/files.test.ts): 1 in 24 concurrent first enrolments failed with "table devices already exists".
  it('concurrent first enrolments of 8 processes: every one succeeds, one database, one key', async () => {
    const work = join(dir, 'race');
    const cards = Array.from({ length: 8 }, (_, i) => {
      const path = join(dir, `race-card-${i}.json`);
      writeDeviceFile(path, makeRecord({ serial: 1300 + i }));
      return path;
    });
    const env = { ...process.env, DSC_HOME: work, DSC_HOST_KEY: '', DSC_FROM_SOURCES: '1' };
    const results = await Promise.all(cards.map((card, i) => new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(process.execPath, [dscPath, 'host', 'enroll', '--user', `u${i}`, '--device', card], { env, cwd: dir });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => done({ code, stderr }));
    })));
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    const file = await openHostFile({ dbPath: join(work, 'host.sqlite'), create: false });
    try {
      for (let i = 0; i < 8; i++) expect((await file.host.devices(`u${i}`)).map((d) => d.serial)).toEqual([String(1300 + i)]);
    } finally {
      file.close();
    }
    expect(readdirSync(work).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  }, 240_000);
});
