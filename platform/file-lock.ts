/**
 * One owner per file: an exclusive lock held as a lock file beside it (`card.json.lock`), for as long
 * as a process holds what the file stands for (a device file: the card in memory).
 *
 * - The lock file is created with its content in one step (platform/atomic-file.ts, create-only), so
 *   nobody ever reads a half-written lock. It names the holder: process id, the process's start time
 *   (so a reused process id is not taken for the holder), the command, and a random nonce.
 * - A second process waits up to `waitMs` (polling every `lockPollMs`), then gets a FileLockedError
 *   naming the holder's process id.
 * - A lock whose holder is dead (killed with SIGKILL, a power cut) is stale: it is moved aside under a
 *   private name, checked to be the very lock judged stale (its nonce), and only then removed; a live
 *   lock moved aside by a racing taker is linked back. Then the normal create-only race decides.
 * - Locks work between processes of one machine (the process check reads this machine's processes).
 */
import { linkSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { FileExistsError, writeFileAtomic } from './atomic-file.ts';

/** How often a waiting process looks at the lock again, in milliseconds. */
export const lockPollMs = 25;
/** A lock file is a short JSON object; anything longer is not one of ours. */
const lockFileBytesMax = 1_024;

/** Who holds a lock, as written in the lock file. */
export interface LockHolder {
  readonly pid: number;
  /** The holder's start time in clock ticks since boot (Linux /proc), or null where unknown. */
  readonly started: number | null;
  readonly command: string;
  readonly nonce: string;
}

/** The file is locked by a live process (named in the message) and stayed so for the whole wait. */
export class FileLockedError extends Error {
  override name = 'FileLockedError';
  constructor(
    readonly path: string,
    readonly holder: LockHolder | null,
    waitedMs: number,
  ) {
    super(
      holder === null
        ? `${JSON.stringify(path)} is locked by ${JSON.stringify(`${path}.lock`)}, which is not a dsc lock file (waited ${waitedMs} ms; remove it if no dsc uses the file)`
        : `${JSON.stringify(path)} is in use by process ${holder.pid} (${holder.command}); waited ${waitedMs} ms. Stop that process first`,
    );
  }
}

/** A held lock. */
export interface FileLock {
  readonly lockPath: string;
  readonly holder: LockHolder;
  /** True while the lock file is still ours (nobody broke it). */
  held(): boolean;
  /** Remove the lock file if it is still ours; safe to call twice. */
  release(): void;
}

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or null off Linux. */
export function processStarted(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const started = Number(fields[19]);
    return Number.isSafeInteger(started) ? started : null;
  } catch {
    return null;
  }
}

/** Is the holder still running (the same process, not a new one with its reused id)? */
export function holderAlive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: a process of another user has this id; it exists.
  }
  if (holder.started === null) return true;
  const started = processStarted(holder.pid);
  return started === null || started === holder.started;
}

function readHolder(lockPath: string): LockHolder | null | 'gone' {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  if (text.length > lockFileBytesMax) return null;
  try {
    const json = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isSafeInteger(json.pid) || typeof json.nonce !== 'string' || typeof json.command !== 'string') return null;
    return { pid: json.pid!, started: Number.isSafeInteger(json.started) ? json.started! : null, command: json.command, nonce: json.nonce };
  } catch {
    return null;
  }
}

/** Sleep without an event loop: the commands that open a card are synchronous until the card is open. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Remove `stale` if it is still the lock file; true when the path is free now (or was freed by another). */
function takeOver(lockPath: string, stale: LockHolder): void {
  const aside = `${lockPath}.${randomBytes(8).toString('hex')}.stale`;
  try {
    renameSync(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // another process took it over first
    throw error;
  }
  const moved = readHolder(aside);
  if (moved !== 'gone' && moved !== null && moved.nonce !== stale.nonce) {
    // We moved a live lock that replaced the stale one meanwhile: put it back where it was.
    try {
      linkSync(aside, lockPath);
    } catch {
      // A third process created a lock in the moment between; that one is now the lock.
    }
  }
  unlinkSync(aside);
}

/**
 * Take the lock of `path` (the lock file is `path` + `.lock`), waiting up to `waitMs` for a live holder.
 * @example
 * const lock = lockFile('card.json', { waitMs: 5_000, command: 'dsc bridge' });
 * try { … } finally { lock.release(); }
 */
export function lockFile(path: string, options: { waitMs: number; command: string }): FileLock {
  const lockPath = `${path}.lock`;
  const holder: LockHolder = { pid: process.pid, started: processStarted(process.pid), command: options.command, nonce: randomBytes(12).toString('hex') };
  const startMs = Date.now();
  for (;;) {
    try {
      writeFileAtomic(lockPath, `${JSON.stringify(holder)}\n`, { exclusive: true, mode: 0o644 });
      break;
    } catch (error) {
      if (!(error instanceof FileExistsError)) throw error;
    }
    const current = readHolder(lockPath);
    if (current === 'gone') continue;
    if (current !== null && !holderAlive(current)) {
      takeOver(lockPath, current);
      continue;
    }
    const waitedMs = Date.now() - startMs;
    if (waitedMs >= options.waitMs) throw new FileLockedError(path, current, waitedMs);
    sleepSync(Math.min(lockPollMs, options.waitMs - waitedMs));
  }
  let released = false;
  const held = () => {
    if (released) return false;
    const current = readHolder(lockPath);
    return current !== 'gone' && current !== null && current.nonce === holder.nonce;
  };
  return {
    lockPath,
    holder,
    held,
    release() {
      if (released) return;
      if (held()) unlinkSync(lockPath);
      released = true;
    },
  };
}
