/**
 * The setups the pty tests share: a scratch folder and a socat pair for each test of a describe, and a card
 * provisioned and served by `dsc bridge` (the real CLI) on one end of a pair, for one run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { runDscInProcess } from '../../support/cli.ts';
import { ptyPair, type PtyPair } from './socat.ts';
import { startDsc } from './spawn.ts';

export interface PtyFolder {
  readonly dir: string;
  readonly pair: PtyPair;
}

/**
 * Before each test of the calling describe, a new scratch folder and pty pair handed to `take`; after it,
 * the pair closed and the folder removed. Hooks the caller adds afterwards run after this one's.
 * @example
 * let dir: string;
 * let pair: PtyPair;
 * ptyPerTest('dsc-trace-', (fresh) => ({ dir, pair } = fresh));
 */
export function ptyPerTest(prefix: string, take: (fresh: PtyFolder) => void): void {
  let current: PtyFolder | undefined;
  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    current = { dir, pair: await ptyPair() };
    take(current);
  });
  afterEach(async () => {
    if (current === undefined) return;
    await current.pair.close();
    rmSync(current.dir, { recursive: true, force: true });
    current = undefined;
  });
}

export interface BridgedCard {
  readonly dir: string;
  readonly device: string;
  /** The end of the pair the bridge does not hold: where a tester connects. */
  readonly port: string;
}

/**
 * Provision a card (`dsc provision provisionArgs`, in this process) in a new folder, serve it with `dsc bridge --port …
 * --device … bridgeArgs`, run `body` once the bridge answers, stop the bridge and remove the pair and folder.
 */
export async function withBridgedCard<T>(prefix: string, provisionArgs: readonly string[], bridgeArgs: readonly string[], body: (card: BridgedCard) => Promise<T>): Promise<{ value: T; bridgeExit: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const pair = await ptyPair();
  try {
    const device = join(dir, 'card.json');
    const provisioned = await runDscInProcess(['provision', ...provisionArgs, '--out', device]);
    expect(provisioned.status, provisioned.stderr).toBe(0);
    const bridge = startDsc(['bridge', '--port', pair.a, '--device', device, ...bridgeArgs]);
    let value!: T;
    let bridgeExit: number | null;
    try {
      await bridge.waitFor(/answering on/);
      value = await body({ dir, device, port: pair.b });
    } finally {
      bridgeExit = await bridge.stop();
    }
    return { value, bridgeExit };
  } finally {
    await pair.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
