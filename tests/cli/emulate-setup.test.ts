// `dsc emulate` before it draws: which database and user the login page gets, and what it refuses.
// The drawing itself is tested in a real terminal (tests/emulator/e2e-tmux.test.ts).
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSetup } from '../../cli/emulate.ts';
import { UsageError, type Io } from '../../cli/io.ts';
import { provisionDeviceFile, readDeviceFile } from '../../emulator/card.ts';
import { ensureDemo } from '../../emulator/demo.ts';
import { openHostFile } from '../../host/index.ts';
import { runDscInProcess } from '../support/cli.ts';
import { scratchFolder } from '../support/temp.ts';

const dir = scratchFolder('dsc-emulate-setup-');
let folders = 0;
const fresh = () => join(dir, `case-${folders++}`);
const ioIn = (cwd: string, env: NodeJS.ProcessEnv = {}): Io => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env, cwd });

describe('the demo shares the default host database', () => {
  it('dsc host devices --user demo finds the demo card made by the first `dsc emulate`', async () => {
    const home = fresh();
    const demo = await ensureDemo(home);
    expect(demo.dbPath).toBe(join(home, 'host.sqlite'));
    const listed = await runDscInProcess(['host', 'devices', '--user', 'demo', '--json'], { env: { ...process.env, DSC_HOME: home } });
    expect(listed.status, listed.stderr).toBe(0);
    const serial = readDeviceFile(demo.devicePath).serial;
    expect(listed.stdout).toContain(serial);
  });

  it('keeps the users `dsc host` enrolled before the first demo', async () => {
    const home = fresh();
    mkdirSync(home);
    const card = join(home, 'mine.json');
    const { record } = provisionDeviceFile(card, { pin: '4826' });
    const before = await openHostFile({ dbPath: join(home, 'host.sqlite'), create: true });
    await before.host.enroll({ user: 'trader1', record });
    expect(before.publish()).toBe('published');
    before.close();
    await ensureDemo(home);
    const after = (await openHostFile({ dbPath: join(home, 'host.sqlite'), create: false })).host;
    try {
      expect((await after.devices('trader1')).map((d) => d.serial)).toEqual([record.serial]);
      expect(await after.devices('demo')).toHaveLength(1);
    } finally {
      await after.close();
    }
  });
});

describe('dsc emulate refuses before it draws', () => {
  it('a --db in a folder that does not exist: exit 2 naming the folder, nothing created', async () => {
    const home = fresh();
    const card = join(dir, `card-${folders++}.json`);
    provisionDeviceFile(card, { pin: '4826' });
    const result = await runDscInProcess(['emulate', '--device', card, '--db', 'no/such/folder/host.sqlite'], { cwd: dir, env: { DSC_HOME: home } });
    expect(result).toMatchObject({ status: 2, stdout: '' });
    expect(result.stderr).toMatch(/^dsc emulate: --db "no\/such\/folder\/host\.sqlite": the folder ".*no\/such\/folder" does not exist\n$/);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it('a mistyped --user on the demo: refused, naming who holds the card, and no user is made', async () => {
    const home = fresh();
    await ensureDemo(home);
    const io = ioIn(dir, { DSC_HOME: home });
    await expect(openSetup({ user: 'demoo' }, io)).rejects.toThrow(UsageError);
    await expect(openSetup({ user: 'demoo' }, io)).rejects.toThrow(/--user "demoo": device \d+ is enrolled in .*host\.sqlite for "demo", not for this user \(check the spelling; `dsc host assign --user demoo --serial \d+` shares the device\)/);
    const host = (await openHostFile({ dbPath: join(home, 'host.sqlite'), create: false })).host;
    try {
      await expect(host.devices('demoo')).rejects.toThrow(/demoo/);
    } finally {
      await host.close();
    }
    const setup = await openSetup({ user: 'demo' }, io);
    await setup.host.close();
    expect(setup.user).toBe('demo');
  });

  it('a device file on a --db where another user holds it: refused; a new device is enrolled for --user', async () => {
    const card = join(dir, `card-${folders++}.json`);
    provisionDeviceFile(card, { pin: '4826' });
    const db = join(dir, `db-${folders++}.sqlite`);
    const io = ioIn(dir);
    const first = await openSetup({ device: card, db, user: 'alice' }, io);
    await first.host.close();
    await expect(openSetup({ device: card, db, user: 'alicee' }, io)).rejects.toThrow(/--user "alicee": device \d+ is enrolled in .* for "alice", not for this user/);
    const again = await openSetup({ device: card, db, user: 'alice' }, io);
    try {
      expect(await again.host.devices('alice')).toHaveLength(1);
    } finally {
      await again.host.close();
    }
    expect(readdirSync(dir).filter((name) => name.startsWith('db-'))).toHaveLength(2); // the database and its key file
  });
});
