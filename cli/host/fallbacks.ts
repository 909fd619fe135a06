/** `dsc host temp-code | code-card`: what support gives a user without their card. */
import { exitFailure, exitOk, UsageError } from '../io.ts';
import { dateOf, opt, str, type HostCommand } from './command.ts';

export const fallbackCommands: Record<string, HostCommand> = {
  'temp-code': {
    summary: 'support: issue a temporary code (2 days full access, then 10 days to print an online card)',
    usage: 'dsc host temp-code --user U        |  dsc host temp-code --user U --check CODE',
    options: { user: { type: 'string' }, check: { type: 'string' } },
    run(host, v) {
      if (str(v, 'check') !== undefined) {
        const result = host.checkTempCode({ user: opt(v, 'user'), code: str(v, 'check')! });
        if (!result.ok && result.reason === 'unknown user') throw new UsageError(`unknown user ${JSON.stringify(opt(v, 'user'))}`);
        return { code: result.ok ? exitOk : exitFailure, text: result.ok ? `ok: ${result.access} access` : result.reason, json: result };
      }
      const issued = host.issueTempCode({ user: opt(v, 'user'), by: 'cli' });
      return { code: exitOk, text: `${issued.code}\t(full access until ${dateOf(issued.fullUntilMs)}, online card printing until ${dateOf(issued.printUntilMs)})`, json: issued };
    },
  },
  'code-card': {
    summary: 'print an online Security Code Card (224 codes, 21 days) with a valid temporary code',
    usage: 'dsc host code-card --user U --temp-code CODE',
    options: { user: { type: 'string' }, 'temp-code': { type: 'string' } },
    run(host, v) {
      const card = host.issueCodeCard({ user: opt(v, 'user'), tempCode: opt(v, 'temp-code') });
      const rows: string[] = [];
      for (let i = 0; i < card.codes.length; i += 8) {
        rows.push(card.codes.slice(i, i + 8).map((c, j) => `${String(i + j + 1).padStart(3, ' ')}:${c}`).join('  '));
      }
      return { code: exitOk, text: [`online Security Code Card ${card.serial}, valid until ${dateOf(card.expiresMs)}`, ...rows].join('\n'), json: card };
    },
  },
};
