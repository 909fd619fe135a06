/** Flooding a serial peer, and watching its memory: for the bounded-link tests and the bench. */
import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Resident memory of a process in bytes (VmRSS, Linux), or null when it cannot be read. */
export function residentBytes(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

export interface FloodResult {
  /** Bytes the pty took from us (the rest stalled: the peer stopped reading). */
  readonly writtenBytes: number;
  /** The largest resident memory of `pid` seen while flooding. */
  readonly peakResidentBytes: number;
}

/**
 * Write `chunk` again and again into the tty at `path` (opened non-blocking, write-only: this end
 * never reads) until `totalBytes` went in or it took nothing for `stallMs` (the peer stopped reading),
 * sampling the resident memory of `pid` all along. Non-blocking writes leave nothing pending behind.
 * @example
 * const { writtenBytes, peakResidentBytes } = await flood('/dev/pts/4', junk, 1_000_000, 2_000, bridgePid);
 */
export async function flood(path: string, chunk: Buffer, totalBytes: number, stallMs: number, pid: number): Promise<FloodResult> {
  const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  let peak = residentBytes(pid) ?? 0;
  let written = 0;
  let stalledSinceMs: number | null = null;
  try {
    while (written < totalBytes) {
      peak = Math.max(peak, residentBytes(pid) ?? 0);
      let count = 0;
      try {
        count = writeSync(fd, chunk, (written % chunk.length), Math.min(chunk.length - (written % chunk.length), totalBytes - written));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      }
      written += count;
      if (count > 0) {
        stalledSinceMs = null;
        continue;
      }
      stalledSinceMs ??= Date.now();
      if (Date.now() - stalledSinceMs >= stallMs) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    closeSync(fd);
  }
  peak = Math.max(peak, residentBytes(pid) ?? 0);
  return { writtenBytes: written, peakResidentBytes: peak };
}

/** A peer that writes and never reads, on a kernel pty of its own (tests/serial/support/deaf-peer.py). */
export interface DeafPeer {
  /** The pty the program under test opens. */
  readonly path: string;
  /** Write `data` (repeated) until `totalBytes` went in or nothing went in for `stallMs`; resolves with the bytes written. */
  send(data: Buffer, totalBytes: number, stallMs: number): Promise<number>;
  close(): void;
}

export const python = '/usr/bin/python3';

export async function deafPeer(scratch: string): Promise<DeafPeer> {
  const child = spawn(python, [fileURLToPath(new URL('./deaf-peer.py', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    pending += text;
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const line of parts) {
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const next = () => new Promise<string>((resolve) => (lines.length > 0 ? resolve(lines.shift()!) : waiters.push(resolve)));
  const path = await next();
  let round = 0;
  return {
    path,
    async send(data, totalBytes, stallMs) {
      const file = join(scratch, `deaf-${round++}.bin`);
      writeFileSync(file, data);
      child.stdin!.write(`go ${file} ${totalBytes} ${stallMs}\n`);
      return Number(await next());
    },
    close: () => {
      child.stdin!.end();
      child.kill();
    },
  };
}

/** Sample the resident memory of `pid` every 50 ms until `work` settles; resolves with its value and the peak. */
export async function peakWhile<T>(pid: number, work: Promise<T>): Promise<{ value: T; peakResidentBytes: number }> {
  let peak = residentBytes(pid) ?? 0;
  const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(pid) ?? 0)), 50);
  try {
    const value = await work;
    return { value, peakResidentBytes: Math.max(peak, residentBytes(pid) ?? 0) };
  } finally {
    clearInterval(sampler);
  }
}
