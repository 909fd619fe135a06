/**
 * The README's "Several instances on PostgreSQL" commands, run as printed (through bash, with `npx dsc` as
 * this checkout's dsc, DSC_DB naming a new test database and the two ports replaced by free ones): the
 * database gets its schema and the key file, both instances start, and a login started on one is finished
 * on the other, after which the first refuses the same answer.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../firmware/device-record.ts';
import { dscPath, repoRoot } from '../support/cli.ts';
import { postgresSkipReason, testDatabase, testPostgres, type TestPostgres } from '../support/postgres.ts';
import { cardResponse, makeRecord } from '../host/support/devices.ts';

/** How long an instance may take to print its address (tsx compiles the sources on first start). */
const startTimeoutMs = 60_000;

function readmeCommands(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Several instances on PostgreSQL'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README: no sh block in "Several instances on PostgreSQL"');
  return block.split('\n').filter((line) => line.startsWith('$ ')).map((line) => line.slice(2));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(postgresSkipReason !== null)("the README's several instances on PostgreSQL", () => {
  let server: TestPostgres;
  let db: { url: string; drop(): Promise<void> };
  let dir: string;
  const background: ChildProcess[] = [];
  let record: DeviceRecord;

  beforeAll(async () => {
    server = await testPostgres();
    db = await testDatabase(server);
    dir = mkdtempSync(join(tmpdir(), 'dsc-readme-pg-'));
    // serve.json is the card the README's previous block provisioned (PIN 2580).
    record = makeRecord({ serial: 55000001, pin: '2580' });
    writeFileSync(join(dir, 'serve.json'), JSON.stringify(record));
  });
  afterAll(async () => {
    for (const child of background) child.kill('SIGTERM');
    await db?.drop();
    server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs as printed: schema and key file made, two instances, a login started on one and finished on the other', async () => {
    const commands = readmeCommands();
    expect(commands[0]).toMatch(/^export DSC_DB=postgres:\/\/\S+$/);
    const ports = [await freePort(), await freePort()];
    const env = { ...process.env, DSC_DB: db.url, DSC_FROM_SOURCES: '1' };
    const urls: string[] = [];
    for (const printed of commands.slice(1)) {
      let command = printed.replaceAll('npx dsc', `"${process.execPath}" "${dscPath}"`);
      for (const [i, port] of [8787, 8788].entries()) command = command.replaceAll(`127.0.0.1:${port}`, `127.0.0.1:${ports[i]}`);
      if (!command.endsWith(' &')) {
        const run = spawnSync('bash', ['-c', command], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
        expect(run.status, `${printed}\n${run.stderr}`).toBe(0);
        continue;
      }
      const child = spawn('bash', ['-c', `exec ${command.slice(0, -2)}`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      background.push(child);
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no address within ${startTimeoutMs} ms: ${out}`)), startTimeoutMs);
        child.stdout!.setEncoding('utf8').on('data', (text: string) => {
          out += text;
          if (out.includes('\n')) {
            clearTimeout(timer);
            resolve(out.split('\n')[0]!);
          }
        });
        child.stderr!.setEncoding('utf8').on('data', (text: string) => (out += text));
      });
      urls.push(/listening on (http:\/\/\S+?)\/? /.exec(line)![1]!);
    }
    expect(urls).toHaveLength(2);
    expect(statSync(join(dir, 'dsc-host.key')).mode & 0o777).toBe(0o600);
    const post = async (url: string, path: string, body: unknown) => {
      const response = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, body: await response.json() };
    };
    const start = await post(urls[0]!, '/v1/login/start', { user: 'trader3', password: 'correct horse battery' });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    const answer = { user: 'trader3', challenge: start.body.challenge, response: cardResponse(record, start.body.challenge, '2580') };
    expect((await post(urls[1]!, '/v1/login/verify', answer)).status).toBe(200);
    const again = await post(urls[0]!, '/v1/login/verify', answer);
    expect(again.body.reason).toBe('already used');
  });
});
