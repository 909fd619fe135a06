/** `dsc host unlock | unlock-code | audit`: administrator commands. */
import { exitOk, integerOption, UsageError } from '../io.ts';
import { dateOf, opt, str, type HostCommand } from './command.ts';

export const adminCommands: Record<string, HostCommand> = {
  unlock: {
    summary: "administrator unlock: a device and its users' accounts, or an account and its devices",
    usage: 'dsc host unlock --device SERIAL  |  dsc host unlock --user U',
    options: { device: { type: 'string' }, user: { type: 'string' } },
    async run(host, v) {
      if ((str(v, 'device') === undefined) === (str(v, 'user') === undefined)) throw new UsageError('give exactly one of --device or --user');
      const infos = await host.unlock({ ...(str(v, 'device') !== undefined && { serial: str(v, 'device')! }), ...(str(v, 'user') !== undefined && { user: str(v, 'user')! }), by: 'cli' });
      const what = str(v, 'user') !== undefined ? `account ${str(v, 'user')} and ` : '';
      return { code: exitOk, text: `unlocked ${what}${infos.map((i) => i.serial).join(', ') || 'no devices'}`, json: infos };
    },
  },
  'unlock-code': {
    summary: 'the code that unlocks a PIN-locked digipass card, from the lock code it shows (L1406204)',
    usage: 'dsc host unlock-code --device SERIAL --lock-code L1234567',
    options: { device: { type: 'string' }, 'lock-code': { type: 'string' } },
    async run(host, v) {
      const code = await host.unlockCode({ serial: opt(v, 'device'), lockCode: opt(v, 'lock-code'), by: 'cli' });
      return { code: exitOk, text: code, json: { serial: opt(v, 'device'), unlockCode: code } };
    },
  },
  audit: {
    summary: 'the newest audit entries (who, when, device, outcome, reason)',
    usage: 'dsc host audit [--user U | --device SERIAL] [--limit N]',
    options: { user: { type: 'string' }, device: { type: 'string' }, limit: { type: 'string' } },
    async run(host, v) {
      const entries = await host.auditLog({ ...(str(v, 'user') !== undefined && { user: str(v, 'user')! }), ...(str(v, 'device') !== undefined && { serial: str(v, 'device')! }), limit: str(v, 'limit') === undefined ? 50 : integerOption('limit', str(v, 'limit')!, 100_000) });
      const text = entries.map((e) => `${dateOf(e.atMs)}\t${e.user ?? '-'}\t${e.serial ?? '-'}\t${e.action}\t${e.outcome}${e.reason ? `\t${e.reason}` : ''}`).join('\n');
      return { code: exitOk, text, json: entries };
    },
  },
};
