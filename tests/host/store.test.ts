/** The stores: schema versioning, refusing foreign or newer databases, the bounded memory audit; bad input tables. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { HostError, openSqliteStore, StoreError } from '../../host/index.ts';
import { memoryAuditEntriesMax, memoryStore } from '../../host/memory-store.ts';
import { schemaVersion } from '../../host/migrations.ts';
import { testHost } from './support/clock.ts';
import { makeRecord, secret20 } from './support/devices.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsc-host-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite store', () => {
  it('creates the schema at the current version and reopens without migrating again', async () => {
    const path = join(dir, 'v.sqlite');
    await openSqliteStore(path).close();
    const db = new Database(path);
    expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const again = openSqliteStore(path);
    expect(await again.transaction((tx) => tx.serials())).toEqual([]);
    await again.close();
  });

  it('refuses a database from a newer dsc, and a foreign one, without changing them', async () => {
    const newer = join(dir, 'newer.sqlite');
    const db = new Database(newer);
    db.pragma(`user_version = ${schemaVersion + 1}`);
    db.close();
    expect(() => openSqliteStore(newer)).toThrow(StoreError);
    expect(() => openSqliteStore(newer)).toThrow(/newer than this dsc/);
    const foreign = join(dir, 'foreign.sqlite');
    const other = new Database(foreign);
    other.exec('CREATE TABLE accounts (id INTEGER)');
    other.close();
    expect(() => openSqliteStore(foreign)).toThrow(/not a dscplus host database/);
    const check = new Database(foreign);
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    check.close();
  });

  it('rolls a failed transaction back completely', async () => {
    const store = openSqliteStore(join(dir, 'rollback.sqlite'));
    const { host } = await testHost({ store });
    await expect(host.enrollKeys([
      { user: 'a', serial: '1', profile: 'digipass', suite: 'OCRA-1:HOTP-SHA1-8:QN06', secret: secret20 },
      { user: 'a', serial: 'bad serial', profile: 'digipass', suite: 'OCRA-1:HOTP-SHA1-8:QN06', secret: secret20 },
    ])).rejects.toThrow(HostError);
    expect(await store.transaction((tx) => tx.serials())).toEqual([]);
    expect(await host.auditLog()).toEqual([]);
  });
});

describe('memory store', () => {
  it(`keeps the newest ${memoryAuditEntriesMax} audit entries, newest first`, async () => {
    const store = memoryStore();
    const total = memoryAuditEntriesMax + 5;
    await store.transaction(async (tx) => {
      for (let i = 0; i < total; i++) await tx.audit({ atMs: i, user: null, serial: null, action: 'x', outcome: 'ok', reason: null });
    });
    const newest = await store.transaction((tx) => tx.auditLog({ limit: 3 }));
    expect(newest.map((e) => e.atMs)).toEqual([total - 1, total - 2, total - 3]);
    const all = await store.transaction((tx) => tx.auditLog({ limit: total }));
    expect(all).toHaveLength(memoryAuditEntriesMax);
    expect(all.at(-1)!.atMs).toBe(5);
  });
});

describe('bad input to the library names the value', async () => {
  const { host } = await testHost();
  await host.enroll({ user: 'trader1', record: makeRecord({ serial: 1 }) });
  it.each([
    ['verify: user not a string', () => host.verify({ user: 42 as unknown as string, challenge: '123456', response: '12345678', purpose: 'login' }), /the user expected a string/],
    ['verify: user with a space', () => host.verify({ user: 'a b', challenge: '123456', response: '12345678', purpose: 'login' }), /the user expected 1\.\.64 characters/],
    ['verify: response not a string', () => host.verify({ user: 'trader1', challenge: '123456', response: 12345678 as unknown as string, purpose: 'login' }), /expected strings/],
    ['challenge: unknown user', () => host.challenge({ user: 'nobody' }), /unknown user "nobody"/],
    ['challenge: unknown device', () => host.challenge({ user: 'trader1', serial: '99' }), /no active device 99/],
    ['enrollKey: bad suite', () => host.enrollKey({ serial: '2', profile: 'digipass', suite: 'OCRA-1:HOTP-SHA1-8:QA06', secret: secret20 }), /numeric question/],
    ['enrollKey: P suite without PIN', () => host.enrollKey({ serial: '3', profile: 'dscplus', suite: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', secret: secret20 }), /ordering/],
    ['enrollKey: unknown kind', () => host.enrollKey({ serial: '4', profile: 'digipass', suite: 'OCRA-1:HOTP-SHA1-8:QN06', secret: secret20, kind: 'gold-plated' as 'gold' }), /device kind expected/],
    ['enroll: not a device record', () => host.enroll({ user: 'u', record: { format: 'nope' } }), /"format" expected/],
    ['authorizeWithdrawal: fractional amount', () => host.authorizeWithdrawal({ user: 'trader1', session: '', amountUsd: 10.5 }), /amount expected whole US dollars/],
    ['authorizeWithdrawal: zero', () => host.authorizeWithdrawal({ user: 'trader1', session: '', amountUsd: 0 }), /whole US dollars/],
    ['unlock: unknown device', () => host.unlock({ serial: '404' }), /no device 404/],
    ['requestPinChange: letters', () => host.requestPinChange({ user: 'trader1', session: '', newPin: 'abcd', confirmPin: 'abcd' }), /new PIN expected 4 digits/],
  ])('%s', async (_name, call, message) => {
    await expect(call()).rejects.toThrow(message);
  });
});
