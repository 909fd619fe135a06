/**
 * Every transition of the screen table (fixtures/screens.json) that can be driven over serial, its
 * scripts made to fit this card (its PIN, challenge length and check digit).
 */
import { unlockCode } from '../../firmware/unlock.ts';
import { lcdWidthChars } from '../../firmware/types.ts';
import { KeyScriptError, parseKeyScript } from '../../emulator/key-script.ts';
import { forProfile, patternOf, transitionName, type TransitionRow } from '../../platform/screen-table.ts';
import { ConformanceError } from '../driver.ts';
import type { Conformance } from '../harness.ts';
import { lastLockCode, restore, tablePin, tableWrongPin } from '../card-procedures.ts';
import { challengeToType } from '../target.ts';

/** Screens during which a digipass card is locked: the lock indicator must be lit. */
const lockedScreens = new Set(['lockPin', 'lockCode', 'unlock', 'unlockFail', 'blocked']);

/** The screen table's scripts, made to fit this card: its PIN, its challenge length and check digit. */
function adapt(c: Conformance, script: string): string {
  const question = '1234567890123456'.slice(0, c.target.suite.question.lengthMax);
  return script
    .split(' ')
    .filter((token) => token !== '')
    .map((token) => {
      if (token === tablePin) return c.target.pin;
      if (token === tableWrongPin && c.target.pin === tableWrongPin) return '2222';
      if (token === '123456') return challengeToType(c.target, question);
      return token;
    })
    .join(' ');
}

function skipReason(c: Conformance, row: TransitionRow): string | null {
  if (/BATTERY/.test(`${row.setup} ${row.keys}`)) return 'needs a battery change, which the serial protocol cannot ask for';
  if ((row.from === 'blocked' || row.to === 'blocked') && !c.options.destructive) return 'blocks the card for good (--destructive runs it)';
  if (row.device === 'no-pin') return 'needs a card ordered without a PIN';
  if (row.device === 'check-digit' && !c.target.checkDigit) return 'needs a card with a check digit';
  if (row.device === '10-digit' && c.target.suite.digits <= lcdWidthChars) return 'needs a card with responses longer than the display';
  return null;
}

async function runScript(c: Conformance, script: string): Promise<void> {
  const parts = adapt(c, script).split('{unlock}');
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) await c.driver.type(unlockCode(c.target.secret, lastLockCode(c)));
    const tokens = parts[i]!.split(' ').filter((token) => token !== '');
    let actions;
    try {
      actions = parseKeyScript(tokens);
    } catch (error) {
      if (error instanceof KeyScriptError) throw new ConformanceError(`the screen table's script ${JSON.stringify(script)}: ${error.message}`);
      throw error;
    }
    await c.driver.run(actions);
  }
}

/** Rows that block a digipass card for good; they run last, the one that needs an unblocked card first. */
function blocks(row: TransitionRow): boolean {
  return row.from === 'blocked' || row.to === 'blocked';
}

export async function screenTable(c: Conformance): Promise<void> {
  const applicable = c.table.transitions.filter((row) => forProfile(row, c.target.profile));
  const destructive = applicable.filter(blocks).sort((a, b) => Number(a.from === 'off' || a.from === 'blocked') - Number(b.from === 'off' || b.from === 'blocked'));
  const rows = [...applicable.filter((row) => !blocks(row)), ...destructive];
  let stopped: string | null = null;
  for (const row of rows) {
    const name = `screen table: ${transitionName(row)}`;
    const reason = stopped ?? skipReason(c, row);
    if (reason !== null) {
      c.report(name, 'skip', reason);
      continue;
    }
    await c.check(name, async () => {
      try {
        if (blocks(row) && c.blocked) await c.driver.off(c.hold, c.table.display.idleTimeoutMs);
        else await restore(c);
      } catch (error) {
        // Without a known starting state every further row would fail for the same reason: say it once.
        stopped = `not run: the card could not be brought back to a known state (${(error as Error).message})`;
        throw new ConformanceError(`stopped the screen table here: ${(error as Error).message}`);
      }
      await runScript(c, row.setup);
      if (!c.screenShows(row.from, c.driver.text)) {
        throw new ConformanceError(`the setup (${row.setup || 'none'}) should reach ${row.from} (${patternOf(c.table, row.from)}); the display shows ${JSON.stringify(c.driver.text)}`);
      }
      await runScript(c, row.keys);
      const text = c.driver.text;
      if (!c.screenShows(row.to, text)) {
        throw new ConformanceError(`after ${row.keys} expected ${row.to} (${patternOf(c.table, row.to)}); the display shows ${JSON.stringify(text)}${lockedScreens.has(row.to) ? ': lock not honoured' : ''}`);
      }
      const wantLocked = c.target.profile === 'digipass' && lockedScreens.has(row.to);
      if (wantLocked && c.driver.frame?.locked !== true) throw new ConformanceError(`${row.to} shows without the lock indicator: lock not honoured`);
      if (row.to === 'blocked') c.blocked = true;
      for (const [indicator, want] of Object.entries(row.indicators ?? {})) {
        const shown = indicator === 'lowBattery' ? c.driver.frame?.lowBattery : c.driver.frame?.locked;
        if (shown !== want) throw new ConformanceError(`indicator ${indicator} expected ${want}, shown ${shown}`);
      }
      return `${JSON.stringify(text)}`;
    });
  }
}
