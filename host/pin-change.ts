/**
 * Server-side PIN change of a DSC+ (the card never checks its PIN: it mixes it into the response). It needs a
 * live session from a login on that device (which proved the current PIN), then the user types the new PIN
 * twice; the answer to the returned challenge, made with the NEW PIN (IBKR KB1018), commits it in verify.
 * A weak PIN is refused here by the same rule the keypad applies (firmware/pin.ts isWeakPin).
 */
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { isWeakPin } from '../firmware/pin.ts';
import { equalStrings } from '../firmware/compare.ts';
import { inTransaction, type HostCore } from './core.ts';
import { pickDevice, unusable } from './devices.ts';
import { HostError } from './errors.ts';
import { issue } from './issue.ts';
import { pinChangeContext } from './seal.ts';
import { requireSession } from './session.ts';
import { suiteOf } from './suites.ts';
import type { Issued } from './types.ts';
import { checkName, checkPin, serialCharsMax, userCharsMax } from './validate.ts';

export function requestPinChange(core: HostCore, input: { user: string; session: string; serial?: string; newPin: string; confirmPin: string }): Promise<Issued> {
  const user = checkName('user', input.user, userCharsMax);
  const newPin = checkPin('new PIN', input.newPin);
  if (!equalStrings(newPin, checkPin('PIN confirmation', input.confirmPin))) throw new HostError('pins differ', 'the new PIN and its confirmation differ', true);
  if (isWeakPin(newPin)) throw new HostError('weak pin', 'the new PIN is too easy to guess (a run or a repeated digit): choose another', true);
  const serial = input.serial === undefined ? undefined : checkName('device serial', input.serial, serialCharsMax);
  return inTransaction(core, async (core) => {
    const nowMs = core.now();
    const session = await requireSession(core, user, input.session, nowMs);
    if (serial !== undefined && serial !== session.serial) {
      throw new HostError('refused', `the session is from a login with device ${session.serial}: a PIN change is for the device that proved the current PIN`);
    }
    const row = await pickDevice(core, user, session.serial, (r) => unusable(r, nowMs) ?? (r.profile !== 'dscplus' || !suiteOf(r.suite).pin ? 'its PIN is not the server\'s (only a dscplus card with a P suite changes PIN on the server)' : null));
    return issue(core, row, user, 'pin-change', nowMs, { sealedPayload: core.sealer.seal(pinChangeContext(row.serial), utf8ToBytes(newPin)) });
  });
}
