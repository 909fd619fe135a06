/** `dsc host challenge | verify | pin-change | authorize-withdrawal`: challenges and their answers. */
import { exitFailure, exitOk, integerOption, UsageError } from '../io.ts';
import { opt, str, usd, type HostCommand } from './command.ts';

export const loginCommands: Record<string, HostCommand> = {
  challenge: {
    summary: 'issue a fresh challenge for a user (and device, when the user has several)',
    usage: 'dsc host challenge --user U [--device SERIAL]',
    options: { user: { type: 'string' }, device: { type: 'string' } },
    run(host, v) {
      const issued = host.challenge({ user: opt(v, 'user'), ...(str(v, 'device') !== undefined && { serial: str(v, 'device')! }) });
      const text = issued.indexes ? `${issued.challenge}\t(codes ${issued.indexes[0]} and ${issued.indexes[1]} of card ${issued.serial})` : issued.challenge;
      return { code: exitOk, text, json: issued };
    },
  },
  verify: {
    summary: 'check a response: exit 0 "ok", or exit 1 and the reason',
    usage: 'dsc host verify --user U --challenge C --response R',
    options: { user: { type: 'string' }, challenge: { type: 'string' }, response: { type: 'string' } },
    run(host, v) {
      const result = host.verify({ user: opt(v, 'user'), challenge: opt(v, 'challenge'), response: opt(v, 'response') });
      if (result.ok) {
        const text = result.purpose === 'withdrawal' ? `ok: withdrawal of ${usd(result.amountUsd ?? 0)} authorized` : result.purpose === 'pin-change' ? 'ok: new PIN set' : 'ok';
        return { code: exitOk, text, json: result };
      }
      if (result.reason === 'unknown user') throw new UsageError(`unknown user ${JSON.stringify(opt(v, 'user'))}`);
      if (result.reason === 'malformed response') throw new UsageError(`--response expected the ${result.serial ? `digits device ${result.serial} shows` : 'card\'s digits'}, got ${opt(v, 'response').length} characters`);
      const text = result.reason === 'throttled' ? `throttled: retry in ${Math.ceil((result.retryAfterMs ?? 0) / 1000)} s` : result.locked ? `${result.reason} (device now locked)` : result.reason;
      return { code: exitFailure, text, json: result };
    },
  },
  'pin-change': {
    summary: 'start a server-side PIN change (dscplus): answer the printed challenge with the NEW PIN, then verify',
    usage: 'dsc host pin-change --user U [--device SERIAL] --new-pin P --confirm-pin P',
    options: { user: { type: 'string' }, device: { type: 'string' }, 'new-pin': { type: 'string' }, 'confirm-pin': { type: 'string' } },
    run(host, v) {
      const issued = host.requestPinChange({ user: opt(v, 'user'), ...(str(v, 'device') !== undefined && { serial: str(v, 'device')! }), newPin: opt(v, 'new-pin'), confirmPin: opt(v, 'confirm-pin') });
      return { code: exitOk, text: issued.challenge, json: issued };
    },
  },
  'authorize-withdrawal': {
    summary: 'issue a challenge for a withdrawal from a device whose limits cover it; verify commits it',
    usage: 'dsc host authorize-withdrawal --user U --amount USD [--device SERIAL]',
    options: { user: { type: 'string' }, amount: { type: 'string' }, device: { type: 'string' } },
    run(host, v) {
      const issued = host.authorizeWithdrawal({ user: opt(v, 'user'), amountUsd: integerOption('amount', opt(v, 'amount')), ...(str(v, 'device') !== undefined && { serial: str(v, 'device')! }) });
      return { code: exitOk, text: `${issued.challenge}\t(${usd(issued.amountUsd)} with device ${issued.serial})`, json: issued };
    },
  },
};
