/** A test file's scratch folder, removed when the file's tests end, so a run leaves nothing in the temp folder. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * A new folder under the system's temp folder, removed after the calling file's tests.
 * Call it at the top level of a test file (or in a describe), not inside a test.
 * @example
 * const dir = scratchFolder('dsc-runtime-');
 */
export function scratchFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
