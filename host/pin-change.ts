/**
 * Server-side PIN change of a DSC+ (the card never checks its PIN: it mixes it into the response). The user
 * types the new PIN twice; the answer to the returned challenge, made with the NEW PIN, commits it in verify.
 */
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { equalStrings } from './compare.ts';
import type { HostCore } from './core.ts';
import { pickDevice, unusable } from './devices.ts';
import { HostError } from './errors.ts';
import { issue } from './issue.ts';
import { pinChangeContext } from './seal.ts';
import { suiteOf } from './suites.ts';
import type { Issued } from './types.ts';
import { checkName, checkPin, serialCharsMax, userCharsMax } from './validate.ts';

export function requestPinChange(core: HostCore, input: { user: string; serial?: string; newPin: string; confirmPin: string }): Issued {
  const user = checkName('user', input.user, userCharsMax);
  const newPin = checkPin('newPin', input.newPin);
  if (!equalStrings(newPin, checkPin('confirmPin', input.confirmPin))) throw new HostError('pins differ', 'the new PIN and its confirmation differ', true);
  const serial = input.serial === undefined ? undefined : checkName('serial', input.serial, serialCharsMax);
  return core.store.transaction(() => {
    const nowMs = core.now();
    const row = pickDevice(core, user, serial, (r) => unusable(r, nowMs) ?? (r.profile !== 'dscplus' || !suiteOf(r.suite).pin ? 'its PIN is not the server\'s (only a dscplus card with a P suite changes PIN on the server)' : null));
    return issue(core, row, user, 'pin-change', nowMs, { sealedPayload: core.sealer.seal(pinChangeContext(row.serial), utf8ToBytes(newPin)) });
  });
}
