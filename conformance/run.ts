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
import { forProfile, loadScreenTable } from '../platform/screen-table.ts';
import { Conformance, ConformanceStopped, type CheckResult, type ConformanceOptions } from './harness.ts';
import type { Target } from './target.ts';

export type { CheckResult, CheckStatus, ConformanceOptions } from './harness.ts';
export { ConformanceStopped } from './harness.ts';

/**
 * Run every check against a connected card; resolves with the results (also streamed to `onResult`).
 * @example
 * const results = await runConformance(panel, target, { responses: 5, destructive: false });
 * const ok = results.every((r) => r.status !== 'fail');
 */
export async function runConformance(panel: PanelLink, target: Target, options: ConformanceOptions): Promise<CheckResult[]> {
  const c = new Conformance(panel, target, options);
  try {
    await runChecks(c, target, options);
  } catch (error) {
    // Stopped from outside (Ctrl-C, the port closed): the results so far are the report.
    if (!(error instanceof ConformanceStopped)) throw error;
  }
  return c.results;
}

/**
 * How many results a run reports (for the progress line).
 * @example
 * plannedChecks(target, { responses: 5, destructive: false }); // 66 for a digipass card
 */
export function plannedChecks(target: Target, options: ConformanceOptions): number {
  const pinCheck = (target.profile === 'dscplus' && target.suite.pin) || (target.profile === 'digipass' && !options.quick) ? 1 : 0;
  const rows = options.quick ? 0 : loadScreenTable().transitions.filter((row) => forProfile(row, target.profile)).length;
  return 1 + 1 + pinCheck + 1 + rows + 1 + lineCheckCount;
}

/** Results lineChecks reports (conformance/checks/lines.ts). */
const lineCheckCount = 4;

async function runChecks(c: Conformance, target: Target, options: ConformanceOptions): Promise<void> {
  await handshake(c);
  await responses(c);
  if (target.profile === 'dscplus' && target.suite.pin) await softPin(c);
  if (target.profile === 'digipass' && !options.quick) await lock(c);
  await robustness(c);
  // The short set has no screen table (five 30 s timeouts on a real clock) and no lock (many holds).
  if (!options.quick) await screenTable(c);
  if (c.blocked) {
    c.report('the card is left as found: off, its PIN set, not locked', 'skip', 'the card was blocked for good on purpose (--destructive)');
  } else {
    await c.check('the card is left as found: off, its PIN set, not locked', async () => {
      await restore(c);
      return 'off';
    });
  }
  lineChecks(c);
}
