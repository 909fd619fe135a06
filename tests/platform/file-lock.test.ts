/**
 * platform/file-lock.ts: one owner per file. A live holder is waited for and then named; a holder that
 * is dead (its process gone, or its process id now another process's) is taken over; a lock is only
 * ever removed by its own holder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileLockedError, lockFile, processStarted } from '../../platform/file-lock.ts';

describe('lockFile', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsc-lock-'));
    path = join(dir, 'card.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the file; a second taker waits, then is refused with the holder named', () => {
    const lock = lockFile(path, { waitMs: 1_000, command: 'dsc bridge' });
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8'))).toMatchObject({ pid: process.pid, command: 'dsc bridge' });
    const error = (() => {
      try {
        lockFile(path, { waitMs: 100, command: 'dsc press' });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(FileLockedError);
    expect((error as Error).message).toMatch(new RegExp(`in use by process ${process.pid} \\(dsc bridge\\); waited \\d+ ms`));
    expect(lock.held()).toBe(true);
    lock.release();
    expect(existsSync(`${path}.lock`)).toBe(false);
    lockFile(path, { waitMs: 0, command: 'dsc press' }).release();
  });

  it('takes over the lock of a process that is gone', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: deadPid, started: null, command: 'dsc bridge', nonce: 'old' }));
    const lock = lockFile(path, { waitMs: 0, command: 'dsc respond' });
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8'))).toMatchObject({ pid: process.pid, command: 'dsc respond' });
    lock.release();
  });

  it.skipIf(processStarted(process.pid) === null)('takes over a lock whose process id now belongs to another process (another start time)', () => {
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.pid, started: processStarted(process.pid)! - 1, command: 'dsc bridge', nonce: 'old' }));
    const lock = lockFile(path, { waitMs: 0, command: 'dsc respond' });
    expect(lock.held()).toBe(true);
    lock.release();
  });

  it('never removes a lock that is no longer its own', () => {
    const lock = lockFile(path, { waitMs: 0, command: 'dsc bridge' });
    const theirs = JSON.stringify({ pid: process.pid, started: processStarted(process.pid), command: 'dsc press', nonce: 'theirs' });
    writeFileSync(`${path}.lock`, theirs); // somebody broke our lock and holds the file now
    expect(lock.held()).toBe(false);
    lock.release();
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(theirs);
  });

  it('refuses, naming the file, when the lock file is not a dsc lock', () => {
    writeFileSync(`${path}.lock`, 'not json');
    expect(() => lockFile(path, { waitMs: 50, command: 'dsc press' })).toThrow(/which is not a dsc lock file .*remove it if no dsc uses the file/);
  });
});
