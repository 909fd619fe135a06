// Attacks 10, 11 and 12 on the host, on real files: symlinks planted at temporary names, a wrong host key,
// odd input that crashed or corrupted (huge counters, a damaged device file, concurrent first creation, a
// zero-length database, files left behind by a refused first command). Concurrent first creation, which
// needs several processes, is in tests/host/concurrency.test.ts.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { counterMax, HostError, openHost, openHostFile } from '../../../host/index.ts';
import { writeDeviceFile } from '../../../emulator/device-file.ts';
import { hostKey } from '../support/clock.ts';
import { makeRecord, secret20 } from '../support/devices.ts';
import { cleanUp, dir, sqliteHost } from './support.ts';

afterAll(cleanUp);
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('attack 10: capturing files through symlinks at temporary names', () => {
  it('a device-file write follows no symlink planted at the old predictable name or at guessed temp names', async () => {
    const target = join(dir, 'card.json');
    const trap = join(dir, 'attacker-owned.txt');
    writeFileSync(trap, '');
    // The old code wrote `${path}.${pid}.tmp` with a plain open: a symlink there captured the device key.
    symlinkSync(trap, `${target}.${process.pid}.tmp`);
    for (let i = 0; i < 64; i++) symlinkSync(trap, join(dir, `.${basename(target)}.${i.toString(16).padStart(24, '0')}.tmp`));
    writeDeviceFile(target, makeRecord({ serial: 1001 }));
    expect(readFileSync(trap, 'utf8')).toBe('');
    expect(JSON.parse(readFileSync(target, 'utf8'))).toMatchObject({ serial: '1001' });
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });
});

describe('attack 11: sealing secrets under a wrong host key', () => {
  it('a well-formed but different key is refused at open, before anything is written', async () => {
    const { host, dbPath } = await sqliteHost();
    await host.enroll({ user: 'u', record: makeRecord({ serial: 1101 }) });
    await host.close();
    const before = sha(dbPath);
    await expect(openHost({ dbPath, hostKey: new Uint8Array(32).fill(9) })).rejects.toThrow(/not the key of/);
    expect(sha(dbPath)).toBe(before);
    // The right key still opens it.
    (await openHost({ dbPath, hostKey })).close();
  });
});

describe('attack 12: crashing or corrupting with odd input', () => {
  it('a counter near 2^53 is refused at enrolment; one already stored makes verify refuse, not crash', async () => {
    const { host, dbPath } = await sqliteHost();
    const suite = 'OCRA-1:HOTP-SHA1-8:C-QN06';
    await expect(host.enrollKey({ user: 'u', serial: '1201', profile: 'digipass', suite, secret: secret20, counter: 2 ** 53 - 2 })).rejects.toThrow(/counter expected 0\.\./);
    await host.enrollKey({ user: 'u', serial: '1201', profile: 'digipass', suite, secret: secret20, counter: counterMax });
    await host.close();
    const db = new Database(dbPath);
    db.prepare("UPDATE devices SET counter = ? WHERE serial = '1201'").run(Number.MAX_SAFE_INTEGER - 1);
    db.close();
    const again = await openHost({ dbPath, hostKey });
    const { challenge } = await again.challenge({ user: 'u' });
    expect(await again.verify({ user: 'u', challenge, response: '12345678', purpose: 'login' })).toMatchObject({ ok: false, reason: 'wrong response' });
    await again.close();
  });

  it('a device file with a damaged orderPin is bad input, not a crash', async () => {
    const { host } = await sqliteHost();
    const record = makeRecord({ serial: 1202 }) as unknown as Record<string, string>;
    const damaged = { ...record, orderPin: record.orderPin!.slice(0, -2) + (record.orderPin!.endsWith('00') ? '11' : '00') };
    let error: unknown;
    try {
      await host.enroll({ user: 'u', record: damaged });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HostError);
    expect((error as HostError).badInput).toBe(true);
    await host.close();
  });

  it('a zero-length database is refused by every command, and left as it was', async () => {
    const dbPath = join(dir, 'empty.sqlite');
    writeFileSync(dbPath, '');
    for (const create of [false, true]) await expect(openHostFile({ dbPath, create, hostKeyHex: '00'.repeat(32) })).rejects.toThrow(/empty file/);
    expect(statSync(dbPath).size).toBe(0);
  });

  it('a refused first enrolment leaves no database and no key file', async () => {
    const dbPath = join(dir, 'refused', 'host.sqlite');
    const file = await openHostFile({ dbPath, create: true });
    try {
      await expect(file.host.enroll({ user: 'u', record: { format: 'nope' } })).rejects.toThrow();
    } finally {
      file.close();
    }
    expect(existsSync(dbPath)).toBe(false);
    expect(existsSync(`${dbPath}.key`)).toBe(false);
  });

});
