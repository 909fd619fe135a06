/** Helpers for tests that race real `dsc` processes on one device file. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dscPath, type CliResult } from '../../support/cli.ts';

/** `dsc ARGS` as a separate process, resolved when it exits (several may run at once). */
export function runDscAsync(args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [dscPath, ...args], { ...(cwd !== undefined && { cwd }), env: { ...env, DSC_FROM_SOURCES: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The process id written in a device file's lock, or null when the file is not locked. */
export function lockHolderPid(devicePath: string): number | null {
  const lockPath = `${devicePath}.lock`;
  if (!existsSync(lockPath)) return null;
  return (JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number }).pid;
}

/** Poll `condition` every 20 ms until it holds (a failure guard of `timeoutMs`), resolving with the time it took. */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - start;
}

/** Is the process still running? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
