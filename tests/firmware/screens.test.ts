// The screen table (fixtures/screens.json) is the firmware's specification: every transition row is
// driven on a fresh card, and docs/screens.md must show the same table.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lcdWidthChars, type Profile } from '../../firmware/types.ts';
import { loadScreenTable, patternRegExp } from '../../platform/screen-table.ts';
import { openTestCard, type TestDevice } from './support.ts';

const table = loadScreenTable();
const patterns = new Map(table.screens.map((s) => [s.id, patternRegExp(table, s.id)]));
const testDevices: readonly string[] = ['default', 'check-digit', 'no-pin', '10-digit'] satisfies TestDevice[];
function testDevice(name: string): TestDevice {
  if (!testDevices.includes(name)) throw new TypeError(`screens.json names a device the firmware tests cannot make: ${JSON.stringify(name)}`);
  return name as TestDevice;
}
const profilesOf = (p: 'both' | Profile): Profile[] => (p === 'both' ? ['dscplus', 'digipass'] : [p]);

describe('screen table', () => {
  const cases = table.transitions.flatMap((row, index) => profilesOf(row.profiles).map((profile) => ({ row, index, profile })));

  it.each(cases)('row $index ($profile): $row.from --$row.input--> $row.to', ({ row, profile }) => {
    const t = openTestCard(profile, testDevice(row.device));
    t.run(row.setup);
    expect(t.card.screenId).toBe(row.from);
    expect(t.card.frame.text).toMatch(patterns.get(row.from)!);
    t.run(row.keys);
    expect(t.card.screenId).toBe(row.to);
    expect(t.card.frame.text).toMatch(patterns.get(row.to)!);
    if (row.indicators) expect(t.card.frame.indicators).toMatchObject(row.indicators);
    for (const text of t.texts) expect(text.length).toBeLessThanOrEqual(lcdWidthChars);
  });

  it('names only known screens, and every screen is reached and left by some row', () => {
    const ids = new Set(table.screens.map((s) => s.id));
    for (const row of table.transitions) {
      expect(ids).toContain(row.from);
      expect(ids).toContain(row.to);
    }
    for (const id of ids) {
      expect(table.transitions.some((r) => r.from === id), `no row leaves ${id}`).toBe(true);
      expect(table.transitions.some((r) => r.to === id), `no row reaches ${id}`).toBe(true);
    }
  });

  it('gives every screen an example that fits its pattern and the display', () => {
    for (const screen of table.screens) {
      const example = screen.example;
      expect(example.length).toBeLessThanOrEqual(lcdWidthChars);
      expect(example, screen.id).toMatch(patterns.get(screen.id)!);
    }
  });

  it('agrees with docs/screens.md, row for row', () => {
    const doc = readFileSync(new URL('../../docs/screens.md', import.meta.url), 'utf8');
    const cells = (line: string) => line.slice(2, -2).split(/ (?<!\\)\| /).map((c) => c.replace(/\\\|/g, '|').replace(/^`|`$/g, ''));
    const section = (title: string) => {
      const start = doc.indexOf(`## ${title}`);
      const rest = doc.slice(start);
      const lines = rest.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('|---'));
      const end = lines.findIndex((l, i) => i > 0 && l.startsWith('| from') !== lines[0]!.startsWith('| from') && l.startsWith('| id'));
      return (end < 0 ? lines : lines.slice(0, end)).slice(1).map(cells);
    };
    const screens = section('Screens').slice(0, table.screens.length);
    expect(screens.map((c) => [c[0], c[1] === '(blank)' ? '' : c[1], c[2], c[3], c[4]])).toEqual(
      table.screens.map((s) => [s.id, s.example, s.pattern, s.profiles, s.meaning]),
    );
    const rows = section('Transitions');
    expect(rows.map((c) => [c[0], c[1], c[2], c[3]!.replace(' (low battery)', ''), c[4], c[5], c[6] === '(none)' ? '' : c[6], c[7]])).toEqual(
      table.transitions.map((r) => [r.from, r.input, r.keys, r.to, r.profiles, r.device, r.setup, r.note]),
    );
  });
});
