// The one screen-table loader: the fixture passes its checks, and each kind of corruption is refused
// with a TypeError that names the row and the field (a malformed fixture is a bug, never guessed around).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadScreenTable, parseScreenTable, screenTableUrl, shows } from '../../platform/screen-table.ts';

const fixture = () => JSON.parse(readFileSync(screenTableUrl, 'utf8')) as Record<string, any>;

describe('platform/screen-table.ts', () => {
  it('reads the repository fixture: every screen, every transition, the display facts', () => {
    const table = loadScreenTable();
    expect(table.screens.length).toBe(fixture().screens.length);
    expect(table.transitions.length).toBe(fixture().transitions.length);
    expect(table.display.powerHoldMs).toBe(2000);
    expect(shows(table, 'off', '')).toBe(true);
    expect(shows(table, 'pin', 'PIN>--')).toBe(true);
    expect(shows(table, 'pin', 'PIN>-----')).toBe(false);
  });

  it.each([
    ['not an object', () => 7, /the top level expected an object/],
    ['no display', (t: any) => (delete t.display, t), /"display" expected an object/],
    ['a display time that is not a number', (t: any) => ((t.display.messageMs = '1500'), t), /"display" expected a positive integer "messageMs"/],
    ['no screens', (t: any) => (delete t.screens, t), /expected a "screens" array/],
    ['a screen without a pattern', (t: any) => (delete t.screens[2].pattern, t), /screen 2 expected a string "pattern"/],
    ['a pattern that is not a regular expression', (t: any) => ((t.screens[1].pattern = '^PIN>('), t), /screen 1 has a "pattern" that is not a regular expression/],
    ['an unknown profile', (t: any) => ((t.screens[0].profiles = 'visa'), t), /screen 0 expected "profiles" to be "both" or one of dscplus, digipass, got "visa"/],
    ['two screens with one id', (t: any) => ((t.screens[1].id = t.screens[0].id), t), /two screens have the same "id"/],
    ['a transition to an unknown screen', (t: any) => ((t.transitions[3].to = 'nowhere'), t), /transition 3 names an unknown screen in "to": "nowhere"/],
    ['a transition for an unknown device', (t: any) => ((t.transitions[0].device = 'toaster'), t), /transition 0 names an unknown device: "toaster"/],
    ['an unknown indicator', (t: any) => ((t.transitions[0].indicators = { charging: true }), t), /transition 0 "indicators" expected lowBattery\/locked booleans/],
  ])('refuses %s', (_what, corrupt, message) => {
    expect(() => parseScreenTable(corrupt(fixture()))).toThrow(TypeError);
    expect(() => parseScreenTable(corrupt(fixture()))).toThrow(message);
  });
});
