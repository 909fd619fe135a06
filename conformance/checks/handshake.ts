/** The hello: protocol version, model and serial number as the device file knows them. */
import { cardModel } from '../../firmware/types.ts';
import { protocolVersion } from '../../emulator/serial/messages.ts';
import { ConformanceError } from '../driver.ts';
import type { Conformance } from '../harness.ts';

export async function handshake(c: Conformance): Promise<void> {
  await c.check('handshake: protocol version, model and serial number', async () => {
    const peer = c.panel.peer;
    if (peer === null) throw new ConformanceError('no hello answer');
    if (peer.version !== protocolVersion) throw new ConformanceError(`the card speaks protocol ${peer.version}, expected ${protocolVersion}`);
    if (peer.model !== cardModel) throw new ConformanceError(`the card says it is a ${JSON.stringify(peer.model)}, expected ${JSON.stringify(cardModel)}`);
    if (peer.serial !== c.target.serial) throw new ConformanceError(`the card's serial is ${peer.serial}, the device file's ${c.target.serial}: is this the right card?`);
    return `protocol ${peer.version}, ${peer.model} firmware ${peer.firmware}, serial ${peer.serial}, ${peer.clock} clock`;
  });
}
