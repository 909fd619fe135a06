/** `dsc host temp-code | code-card`: what support gives a user without their card. */
import { exitFailure, exitOk, UsageError } from '../io.ts';
import { dateOf, opt, type HostCommand } from './command.ts';

export const fallbackCommands: Record<string, HostCommand> = {
  'temp-code': {
    summary: 'support: issue a temporary code (2 days full access, then 10 days to print an online card); --check one',
    usage: 'dsc host temp-code --user U        |  dsc host temp-code --user U --check [-]',
    options: { user: { type: 'string' }, check: { type: 'string' } },
    secrets: ['check'],
    async run(host, v, io, secrets) {
      const checking = v.check !== undefined;
      if (checking) {
        const code = await secrets.read(v, 'check', this.secrets!, 'temporary code');
        const result = await host.checkTempCode({ user: opt(v, 'user'), code });
        if (!result.ok && result.reason === 'unknown user') throw new UsageError(`unknown user ${JSON.stringify(opt(v, 'user'))}`);
        const text = result.ok ? `ok: ${result.access} access` : result.reason === 'throttled' ? `throttled: retry in ${Math.ceil((result.retryAfterMs ?? 0) / 1000)} s` : result.locked ? `${result.reason} (account now locked)` : result.reason;
        return { code: result.ok ? exitOk : exitFailure, text, json: result };
      }
      void io;
      const issued = await host.issueTempCode({ user: opt(v, 'user'), by: 'cli' });
      return { code: exitOk, text: issued.code, note: `temporary code for ${opt(v, 'user')}: full access until ${dateOf(issued.fullUntilMs)}, online card printing until ${dateOf(issued.printUntilMs)}`, json: issued };
    },
  },
  'code-card': {
    summary: 'print an online Security Code Card (224 codes, 21 days) with a valid temporary code',
    usage: 'dsc host code-card --user U [--temp-code -]',
    options: { user: { type: 'string' }, 'temp-code': { type: 'string' } },
    secrets: ['temp-code'],
    async run(host, v, _io, secrets) {
      const tempCode = await secrets.read(v, 'temp-code', this.secrets!, 'temporary code');
      const card = await host.issueCodeCard({ user: opt(v, 'user'), tempCode });
      const rows: string[] = [];
      for (let i = 0; i < card.codes.length; i += 8) {
        rows.push(card.codes.slice(i, i + 8).map((c, j) => `${String(i + j + 1).padStart(3, ' ')}:${c}`).join('  '));
      }
      return { code: exitOk, text: rows.join('\n'), note: `online Security Code Card ${card.serial}, valid until ${dateOf(card.expiresMs)}`, json: card };
    },
  },
};
