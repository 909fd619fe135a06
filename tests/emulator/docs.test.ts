/**
 * docs/emulator.md shows the key map the input handler uses (emulator/ui/keymap.ts): every key of
 * the table must be in the doc, so the doc cannot silently fall behind a key change.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cardKeyMap, globalKeyMap, loginKeyMap } from '../../emulator/ui/keymap.ts';

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/emulator.md'), 'utf8');

function docSpelling(key: string): string {
  return key === '0-9' ? '`0`-`9`' : `\`${key}\``;
}

describe('docs/emulator.md', () => {
  for (const [table, rows] of [['card', cardKeyMap], ['login page', loginKeyMap], ['everywhere', globalKeyMap]] as const) {
    it(`lists every ${table} key of the key map`, () => {
      for (const row of rows) {
        for (const key of row.keys.split(/,\s*| or /)) expect(doc, `${table}: ${key}`).toContain(docSpelling(key));
      }
    });
  }

  it('documents the session-log line types the replayer accepts', () => {
    for (const type of ['start', 'entropy', 'key', 'frame', 'end']) expect(doc).toContain(`{"type":"${type}"`);
  });
});
