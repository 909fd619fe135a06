/** `dsc host set-password | login | challenge | verify | pin-change | authorize-withdrawal`. */
import { challengePurposes, type ChallengePurpose } from '../../host/index.ts';
import { exitFailure, exitOk, integerOption, UsageError } from '../io.ts';
import { dateOf, opt, str, usd, type HostCommand } from './command.ts';

function purposeOption(value: string | undefined): ChallengePurpose {
  if (value === undefined) return 'login';
  if (!(challengePurposes as readonly string[]).includes(value)) throw new UsageError(`--purpose expected one of ${challengePurposes.join(', ')}, got ${JSON.stringify(value)}`);
  return value as ChallengePurpose;
}

const device = (v: Record<string, unknown>) => (str(v as never, 'device') !== undefined ? { serial: str(v as never, 'device')! } : {});

export const loginCommands: Record<string, HostCommand> = {
  'set-password': {
    summary: "set a user's password, the first factor (read from stdin with --password - or asked)",
    usage: 'dsc host set-password --user U [--password -]',
    options: { user: { type: 'string' }, password: { type: 'string' } },
    secrets: ['password'],
    async run(host, v, _io, secrets) {
      const password = await secrets.read(v, 'password', this.secrets!, 'new password');
      await host.setPassword({ user: opt(v, 'user'), password, by: 'cli' });
      return { code: exitOk, text: `password set for ${opt(v, 'user')}`, json: { ok: true, user: opt(v, 'user') } };
    },
  },
  login: {
    summary: 'the user-facing login: check the password, then print a login challenge for the card',
    usage: 'dsc host login --user U [--device SERIAL] [--password -]',
    options: { user: { type: 'string' }, device: { type: 'string' }, password: { type: 'string' } },
    secrets: ['password'],
    async run(host, v, _io, secrets) {
      const password = await secrets.read(v, 'password', this.secrets!, 'password');
      const result = await host.login({ user: opt(v, 'user'), password, ...device(v) });
      if (!result.ok) {
        const text = result.reason === 'throttled' ? `throttled: retry in ${Math.ceil((result.retryAfterMs ?? 0) / 1000)} s` : result.reason === 'locked' || result.locked ? `${result.reason} (account locked: an administrator runs dsc host unlock --user ${opt(v, 'user')})` : result.reason;
        return { code: exitFailure, text, json: result };
      }
      const issued = result.issued;
      return { code: exitOk, text: issued.challenge, note: `challenge for device ${issued.serial}, valid until ${dateOf(issued.expiresAtMs)}: answer with dsc host verify`, json: issued };
    },
  },
  challenge: {
    summary: 'for administrators and scripts: a login challenge without the password step (rate-limited)',
    usage: 'dsc host challenge --user U [--device SERIAL]',
    options: { user: { type: 'string' }, device: { type: 'string' } },
    async run(host, v) {
      const issued = await host.challenge({ user: opt(v, 'user'), ...device(v) });
      const note = issued.indexes ? `codes ${issued.indexes[0]} and ${issued.indexes[1]} of card ${issued.serial}` : `for device ${issued.serial}`;
      return { code: exitOk, text: issued.challenge, note, json: issued };
    },
  },
  verify: {
    summary: 'check a response for a purpose (login by default): exit 0, or exit 1 and the reason; a login prints its session token',
    usage: 'dsc host verify --user U --challenge C [--response -] [--purpose login|pin-change|withdrawal]',
    options: { user: { type: 'string' }, challenge: { type: 'string' }, response: { type: 'string' }, purpose: { type: 'string' } },
    secrets: ['response'],
    async run(host, v, _io, secrets) {
      const purpose = purposeOption(str(v, 'purpose'));
      const response = await secrets.read(v, 'response', this.secrets!, 'response');
      const result = await host.verify({ user: opt(v, 'user'), challenge: opt(v, 'challenge'), response, purpose });
      if (result.ok) {
        if (result.session) return { code: exitOk, text: result.session.token, note: `ok: logged in with ${result.serial}; session token on stdout, valid until ${dateOf(result.session.expiresMs)}`, json: result };
        const text = result.purpose === 'withdrawal' ? `ok: withdrawal of ${usd(result.amountUsd ?? 0)} authorized` : 'ok: new PIN set';
        return { code: exitOk, text, json: result };
      }
      if (result.reason === 'unknown user') throw new UsageError(`unknown user ${JSON.stringify(opt(v, 'user'))}`);
      if (result.reason === 'malformed response') throw new UsageError(`--response expected the ${result.serial ? `digits device ${result.serial} shows` : 'card\'s digits'}, got ${response.length} characters`);
      const text = result.reason === 'throttled' ? `throttled: retry in ${Math.ceil((result.retryAfterMs ?? 0) / 1000)} s` : result.locked ? `${result.reason} (now locked: an administrator runs dsc host unlock)` : result.reason;
      return { code: exitFailure, text, json: result };
    },
  },
  'pin-change': {
    summary: 'change a DSC+ PIN on the server after a login: prints a challenge to answer with the NEW PIN (verify --purpose pin-change)',
    usage: 'dsc host pin-change --user U [--device SERIAL] [--session -] [--new-pin -] [--confirm-pin -]',
    options: { user: { type: 'string' }, device: { type: 'string' }, session: { type: 'string' }, 'new-pin': { type: 'string' }, 'confirm-pin': { type: 'string' } },
    secrets: ['session', 'new-pin', 'confirm-pin'],
    async run(host, v, _io, secrets) {
      const session = await secrets.read(v, 'session', this.secrets!, 'session token');
      const newPin = await secrets.read(v, 'new-pin', this.secrets!, 'new PIN');
      const confirmPin = await secrets.read(v, 'confirm-pin', this.secrets!, 'new PIN again');
      const issued = await host.requestPinChange({ user: opt(v, 'user'), session, newPin, confirmPin, ...device(v) });
      return { code: exitOk, text: issued.challenge, note: `answer with device ${issued.serial} and the NEW PIN, then dsc host verify --purpose pin-change`, json: issued };
    },
  },
  'authorize-withdrawal': {
    summary: 'after a login: a challenge for a withdrawal from a device whose limits cover it (verify --purpose withdrawal commits it)',
    usage: 'dsc host authorize-withdrawal --user U --amount USD [--device SERIAL] [--session -]',
    options: { user: { type: 'string' }, amount: { type: 'string' }, device: { type: 'string' }, session: { type: 'string' } },
    secrets: ['session'],
    async run(host, v, _io, secrets) {
      const amountUsd = integerOption('amount', opt(v, 'amount'));
      const session = await secrets.read(v, 'session', this.secrets!, 'session token');
      const issued = await host.authorizeWithdrawal({ user: opt(v, 'user'), session, amountUsd, ...device(v) });
      return { code: exitOk, text: issued.challenge, note: `${usd(issued.amountUsd)} with device ${issued.serial}: answer, then dsc host verify --purpose withdrawal`, json: issued };
    },
  },
};
