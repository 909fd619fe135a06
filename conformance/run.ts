/**
 * The conformance suite: drives a card over the serial protocol and reports, check by check, which
 * behaviours of the screen table and which responses conform. Every response is checked with the
 * OCRA engine on the secret from the device file (or PSKC); the lock of the digipass profile is
 * checked by locking the card and unlocking it again with the unlock code the server would derive.
 * The harness is conformance/harness.ts, the card procedures conformance/card-procedures.ts, and each
 * group of checks has its file in conformance/checks/.
 */
import type { PanelLink } from '../emulator/serial/panel-link.ts';
import { restore } from './card-procedures.ts';
import { handshake } from './checks/handshake.ts';
import { lineChecks } from './checks/lines.ts';
import { lock } from './checks/lock.ts';
import { responses } from './checks/responses.ts';
import { robustness } from './checks/robustness.ts';
import { screenTable } from './checks/screen-table.ts';
import { softPin } from './checks/soft-pin.ts';
import { Conformance, type CheckResult, type ConformanceOptions } from './harness.ts';
import type { Target } from './target.ts';

export type { CheckResult, CheckStatus, ConformanceOptions } from './harness.ts';

/**
 * Run every check against a connected card; resolves with the results (also streamed to `onResult`).
 * @example
 * const results = await runConformance(panel, target, { responses: 5, destructive: false });
 * const ok = results.every((r) => r.status !== 'fail');
 */
export async function runConformance(panel: PanelLink, target: Target, options: ConformanceOptions): Promise<CheckResult[]> {
  const c = new Conformance(panel, target, options);
  await handshake(c);
  await responses(c);
  if (target.profile === 'dscplus' && target.suite.pin) await softPin(c);
  if (target.profile === 'digipass') await lock(c);
  await robustness(c);
  await screenTable(c);
  if (c.blocked) {
    c.report('the card is left as found: off, its PIN set, not locked', 'skip', 'the card was blocked for good on purpose (--destructive)');
  } else {
    await c.check('the card is left as found: off, its PIN set, not locked', async () => {
      await restore(c);
      return 'off';
    });
  }
  lineChecks(c);
  return c.results;
}
