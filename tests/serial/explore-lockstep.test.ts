/**
 * The explorer's lockstep keeps the card's PIN: digits that go to NEW PIN or PIN CONF are the card's own
 * PIN, also when TOO FEW shows over them (the key ends the message and is typed underneath). Before, such
 * digits went through as typed: a random sequence changed the card's PIN to 1111, the next sequences
 * diverged on a conforming card, and `--explore` stopped ("neither its PIN nor 4827 is accepted").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lockstep } from '../../conformance/explore/lockstep.ts';
import { Reference, referenceRecord } from '../../conformance/explore/reference.ts';
import { joinTokens, type Step } from '../../conformance/explore/steps.ts';
import { targetFromDeviceFile } from '../../conformance/target.ts';
import { keyEntry } from '../../firmware/screens.ts';
import { idleTimeoutMs } from '../../firmware/types.ts';
import { runDscInProcess } from '../support/cli.ts';
import { cardInMemory } from './support/card-in-memory.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsc-lockstep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keyEntry', () => {
  it('is the screen under a message, with its digits counted', () => {
    expect(keyEntry({ type: 'message', id: 'tooFew', text: 'TOO FEW', untilMs: 0, next: { type: 'newPin', digits: '12', forced: false } })).toEqual({ id: 'newPin', typed: 2 });
    expect(keyEntry({ type: 'confirmPin', digits: '1', first: '2580', forced: true })).toEqual({ id: 'confirmPin', typed: 1 });
    expect(keyEntry({ type: 'off' })).toEqual({ id: 'off', typed: 0 });
  });
});

describe('the explorer lockstep on a conforming digipass card', () => {
  it('a PIN change typed after TOO FEW sets the card its own PIN again', async () => {
    const device = join(dir, 'card.json');
    const provisioned = await runDscInProcess(['provision', '--profile', 'digipass', '--pin', '2580', '--out', device]);
    expect(provisioned.status, provisioned.stderr).toBe(0);
    const target = targetFromDeviceFile(device);
    const card = await cardInMemory(device);
    const run = async (steps: Step[]) => {
      const reference = new Reference(referenceRecord(target, Date.now()));
      const lockstep = new Lockstep(card.panel, reference, target);
      try {
        await lockstep.run(steps);
        return joinTokens(lockstep.pressed, target.pin.length).join(' ');
      } finally {
        lockstep.close();
        reference.close();
      }
    };
    try {
      const power: Step = { type: 'hold', ms: 2000 };
      // On, PIN, hold PRESS at CHALLNG> (NEW PIN), OK on nothing (TOO FEW), then 1111 OK twice, then the
      // auto power-off: the explorer types the card's PIN where 1111 would go.
      const change = await run([power, { type: 'pin' }, power, { type: 'key', key: 'OK' }, { type: 'wrongPin' }, { type: 'wrongPin' }, { type: 'wait', ms: idleTimeoutMs }]);
      expect(change).toBe('PRESS:2000 {PIN} OK PRESS:2000 OK {PIN} OK {PIN} OK WAIT:30000');
      expect(card.panel.frames.map((frame) => frame.text)).toContain('PIN SET');
      expect(card.panel.frames.at(-1)!.text).toBe('');
      // A new sequence from that known state: the card still takes its own PIN, as the reference does.
      await run([power, { type: 'pin' }]);
      expect(card.panel.frames.at(-1)!.text).toBe('CHALLNG>');
    } finally {
      card.close();
    }
  });
});
