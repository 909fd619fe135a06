/** The protocol's refusals: damaged, repeated, unknown and other-version lines are refused and never pressed. */
import { sealLine } from '../../emulator/serial/codec.ts';
import { protocolVersion } from '../../emulator/serial/messages.ts';
import { ConformanceError } from '../driver.ts';
import type { Conformance } from '../harness.ts';
import { emptyPinText, powerOn, restore } from '../card-procedures.ts';

export async function robustness(c: Conformance): Promise<void> {
  await c.check('protocol: damaged, repeated, unknown and other-version lines are refused and never pressed', async () => {
    const { driver, panel } = c;
    await restore(c);
    await powerOn(c);
    c.expectScreen('pin', 'power-on', emptyPinText);
    // A damaged key line: the CRC of another line.
    panel.writeRaw('KD 0 5*0000\r\n');
    await c.waitForPeerError('CRC');
    // A repeated key line: the very same bytes twice.
    let lastLine = '';
    const unsubscribe = panel.onEvent((event) => {
      if (event.type === 'sent' && event.line.startsWith('KD ')) lastLine = event.line;
    });
    await panel.keyDown('7');
    unsubscribe();
    panel.writeRaw(lastLine);
    await c.waitForPeerError('DUP');
    await panel.keyUp('7');
    await driver.type('8');
    const twoDigits = `${emptyPinText}--`;
    c.expectScreen('pin', 'after 7, a damaged 5, a repeated 7 and 8 (only 7 and 8 count)', twoDigits);
    panel.sendBuilt((seq) => sealLine(`ZZ ${seq}`));
    await c.waitForPeerError('TYPE');
    panel.sendBuilt((seq) => sealLine(`HI ${seq} ${protocolVersion + 1} TESTER 0 - R`));
    await c.waitForPeerError('VERSION');
    c.provoked.set('HELLO', (c.provoked.get('HELLO') ?? 0) + 1);
    await driver.press('9').then(
      () => {
        throw new ConformanceError('after refusing our hello of another version, the card still took a key');
      },
      (error: Error) => {
        if (!/HELLO/.test(error.message)) throw error;
      },
    );
    await panel.connect();
    c.expectScreen('pin', 'after the hello again (the refused 9 must not count)', twoDigits);
    return 'CRC, DUP, TYPE, VERSION and HELLO refusals, no phantom key';
  });
}
