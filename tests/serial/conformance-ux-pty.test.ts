/**
 * `dsc conformance` on a real-clock card as a person runs it: a progress line (done/total, elapsed,
 * time left), and Ctrl-C that prints the summary so far, switches the card off and exits 130.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { provisionCard } from '../support/cli.ts';
import { ptySkipReason, type PtyPair } from './support/socat.ts';
import { ptyPerTest } from './support/pty-setup.ts';
import { startDsc } from './support/spawn.ts';

describe.skipIf(ptySkipReason !== null)('dsc conformance, interrupted', () => {
  let dir: string;
  let pair: PtyPair;
  ptyPerTest('dsc-conf-ux-', (fresh) => ({ dir, pair } = fresh));

  it('shows progress, and on Ctrl-C prints the summary, leaves the card off and exits 130', async () => {
    const device = await provisionCard(join(dir, 'card.json'), ['--profile', 'digipass', '--pin', '2580']);
    const bridge = startDsc(['bridge', '--port', pair.a, '--device', device, '--clock', 'real', '--trace']);
    try {
      await bridge.waitFor(/answering on/);
      const conformance = startDsc(['conformance', '--port', pair.b, '--device', device]);
      await conformance.waitFor(/PASS {2}responses/, 'stdout');
      await conformance.waitFor(/progress: 2\/\d+ checks, \d+:\d\d elapsed, about \d+:\d\d left/);
      conformance.child.kill('SIGINT');
      expect(await conformance.exited()).toBe(130);
      expect(conformance.stdout).toMatch(/conformance: 2 passed, 0 failed, 0 skipped; interrupted after 2 of \d+ checks/);
      expect(conformance.stderr).toMatch(/interrupted; switching the card off/);
      // The last frame the card sent is the blank display: off.
      const frames = bridge.stderr.split('\n').filter((line) => /^tx FR /.test(line));
      expect(frames.at(-1)).toMatch(/^tx FR \d+ \d+ -- ""\*/);
    } finally {
      await bridge.stop();
    }
  });
});
