/** Run the real `dsc` binary as a user would, capturing its output and exit code. */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const dscPath = fileURLToPath(new URL('../../bin/dsc.js', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runDsc(args: string[], options: SpawnSyncOptions & { input?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, [dscPath, ...args], { encoding: 'utf8', timeout: 60_000, ...options });
  if (result.error) throw result.error;
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}
