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
    const demo = ensureDemo(home);
    expect(demo.dbPath).toBe(join(home, 'host.sqlite'));
    const listed = await runDscInProcess(['host', 'devices', '--user', 'demo', '--json'], { env: { ...process.env, DSC_HOME: home } });
    expect(listed.status, listed.stderr).toBe(0);
    const serial = readDeviceFile(demo.devicePath).serial;
    expect(listed.stdout).toContain(serial);
  });

  it('keeps the users `dsc host` enrolled before the first demo', () => {
    const home = fresh();
    mkdirSync(home);
    const card = join(home, 'mine.json');
    const { record } = provisionDeviceFile(card, { pin: '4826' });
    const before = openHostFile({ dbPath: join(home, 'host.sqlite'), create: true });
    before.host.enroll({ user: 'trader1', record });
    expect(before.publish()).toBe('published');
    before.close();
    ensureDemo(home);
    const after = openHostFile({ dbPath: join(home, 'host.sqlite'), create: false }).host;
    try {
      expect(after.devices('trader1').map((d) => d.serial)).toEqual([record.serial]);
      expect(after.devices('demo')).toHaveLength(1);
    } finally {
      after.close();
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

  it('a mistyped --user on the demo: refused, naming who holds the card, and no user is made', () => {
    const home = fresh();
    ensureDemo(home);
    const io = ioIn(dir, { DSC_HOME: home });
    expect(() => openSetup({ user: 'demoo' }, io)).toThrow(UsageError);
    expect(() => openSetup({ user: 'demoo' }, io)).toThrow(/--user "demoo": device \d+ is enrolled in .*host\.sqlite for "demo", not for this user \(check the spelling; `dsc host assign --user demoo --serial \d+` shares the device\)/);
    const host = openHostFile({ dbPath: join(home, 'host.sqlite'), create: false }).host;
    try {
      expect(() => host.devices('demoo')).toThrow(/demoo/);
    } finally {
      host.close();
    }
    const setup = openSetup({ user: 'demo' }, io);
    setup.host.close();
    expect(setup.user).toBe('demo');
  });

  it('a device file on a --db where another user holds it: refused; a new device is enrolled for --user', () => {
    const card = join(dir, `card-${folders++}.json`);
    provisionDeviceFile(card, { pin: '4826' });
    const db = join(dir, `db-${folders++}.sqlite`);
    const io = ioIn(dir);
    const first = openSetup({ device: card, db, user: 'alice' }, io);
    first.host.close();
    expect(() => openSetup({ device: card, db, user: 'alicee' }, io)).toThrow(/--user "alicee": device \d+ is enrolled in .* for "alice", not for this user/);
    const again = openSetup({ device: card, db, user: 'alice' }, io);
    try {
      expect(again.host.devices('alice')).toHaveLength(1);
    } finally {
      again.host.close();
    }
    expect(readdirSync(dir).filter((name) => name.startsWith('db-'))).toHaveLength(2); // the database and its key file
  });
});
