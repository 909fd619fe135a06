/** Issuing challenges: drawn fresh, never the same text twice to one device, recorded with their purpose. */
import { drawChallenge, randomBelow } from './challenge.ts';
import { inTransaction, record, type HostCore, type TxCore } from './core.ts';
import { suiteOf } from './suites.ts';
import { pickDevice, unusable } from './devices.ts';
import { HostError } from './errors.ts';
import { codeCardCodes } from './code-card.ts';
import { issuedIndex, markIssued } from './issued-bits.ts';
import { accountGate, gateMessage } from './lockout.ts';
import { takeIssue } from './rate-limit.ts';
import type { ChallengePurpose, DeviceRow } from './store.ts';
import type { Issued } from './types.ts';
import { checkName, serialCharsMax, userCharsMax } from './validate.ts';

/** How long a challenge can be answered. */
export const challengeTtlMs = 120_000;
/** The longest validity a caller may configure: a challenge is for one login, not a session. */
export const challengeTtlMaxMs = 15 * 60_000;
/** Challenge rows are kept this long past their expiry (for "expired" rather than "unknown"), then pruned. */
export const challengeRowKeepMs = 24 * 60 * 60_000;
/**
 * Challenge rows each issue looks at for pruning (the oldest, by id): more than the one row an issue adds, so
 * pruning keeps up with any issue rate and catches up after a quiet spell (15 rows net per issue), and few enough
 * that an issue's cost does not grow with the table.
 */
export const challengesPrunedPerIssueMax = 16;
/** Draws before giving up on finding a challenge never issued to the device (the space is nearly used up). */
export const challengeDrawsMax = 1_000;

/** `issuedMs`: the time the caller read once for the whole call. */
export async function issue(core: TxCore, row: DeviceRow, user: string, purpose: ChallengePurpose, issuedMs: number, extra?: { sealedPayload?: Uint8Array; amountUsd?: number }): Promise<Issued> {
  // A locked account gets no challenges; a throttled one may (the wait applies to answering).
  const gate = await accountGate(core, user, issuedMs);
  if (!gate.ok && gate.reason === 'locked') throw new HostError('locked', gateMessage(user, gate));
  await takeIssue(core, user, row.serial, issuedMs);
  await core.tx.pruneChallenges(issuedMs - challengeRowKeepMs, challengesPrunedPerIssueMax);
  for (let draw = 0; draw < challengeDrawsMax; draw++) {
    let challenge: string;
    let indexes: [number, number] | undefined;
    if (row.profile === 'code-card') {
      const first = randomBelow(core.random, codeCardCodes);
      let second = randomBelow(core.random, codeCardCodes - 1);
      if (second >= first) second++;
      indexes = [first + 1, second + 1];
      challenge = indexes.map((i) => String(i).padStart(3, '0')).join('-');
    } else {
      challenge = drawChallenge(core.random, suiteOf(row.suite).question.lengthMax, row.checkDigit);
    }
    // Never the same challenge twice to one card (a 6-digit space repeats after ~1,200 draws by the birthday bound).
    const expiresAtMs = issuedMs + core.challengeTtlMs;
    // The bitmap remembers every challenge ever issued (rows are pruned); the row insert is the backstop.
    if (!(await markIssued(core.tx, row.serial, issuedIndex(challenge, row.checkDigit, row.profile === 'code-card')))) continue;
    const id = await core.tx.insertChallenge({
      serial: row.serial, user, challenge, purpose, sealedPayload: extra?.sealedPayload ?? null, amountUsd: extra?.amountUsd ?? null,
      issuedMs, expiresMs: expiresAtMs, attempts: 0, state: 'open',
    });
    if (id === 0) continue; // issued to this device before: draw again
    await record(core, issuedMs, user, row.serial, purpose === 'login' ? 'challenge' : purpose, 'ok', 'challenge issued');
    return indexes ? { challenge, serial: row.serial, expiresAtMs, indexes } : { challenge, serial: row.serial, expiresAtMs };
  }
  throw new HostError('challenges exhausted', `no unused challenge found for device ${row.serial} after ${challengeDrawsMax} draws: replace the device`);
}

/**
 * A fresh login challenge without the first factor: for administrators and scripts (the user-facing path is
 * `passwordLogin`, host/login.ts). Rate-limited like every issue.
 */
export function loginChallenge(core: HostCore, input: { user: string; serial?: string }): Promise<Issued> {
  const user = checkName('user', input.user, userCharsMax);
  const serial = input.serial === undefined ? undefined : checkName('device serial', input.serial, serialCharsMax);
  return inTransaction(core, async (core) => {
    const nowMs = core.now();
    return issue(core, await pickDevice(core, user, serial, (r) => unusable(r, nowMs)), user, 'login', nowMs);
  });
}
