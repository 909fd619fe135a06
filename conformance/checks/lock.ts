/** The digipass lock: wrong PINs lock the card, the lock code survives power-off, the derived unlock code opens it. */
import { messageTexts } from '../../firmware/screens.ts';
import { wrongPinsMax } from '../../firmware/types.ts';
import { unlockCode } from '../../firmware/unlock.ts';
import { ConformanceError } from '../driver.ts';
import type { Conformance } from '../harness.ts';
import { answer, lastLockCode, powerOn, randomQuestion, restore, setPin, tableWrongPin } from '../card-procedures.ts';

export async function lock(c: Conformance): Promise<void> {
  await c.check(`lock: ${wrongPinsMax} wrong PINs lock the card, which then shows its lock code until the unlock code`, async () => {
    const { driver, target } = c;
    const wrongPin = target.pin === tableWrongPin ? '2222' : tableWrongPin;
    await restore(c);
    await powerOn(c);
    for (let tries = 1; tries < wrongPinsMax; tries++) {
      await driver.type(wrongPin, 'OK');
      c.expectScreen('pinFail', `wrong PIN ${tries}`, messageTexts.fail(tries));
    }
    await driver.type(wrongPin, 'OK');
    if (!c.showsPrompt('lockPin') || driver.frame?.locked !== true) {
      throw new ConformanceError(`lock not honoured: after ${wrongPinsMax} wrong PINs in a row the card shows ${JSON.stringify(driver.text)}${driver.frame?.locked ? '' : ' without the lock indicator'}, expected ${JSON.stringify(c.prompt('lockPin'))} with it`);
    }
    await driver.wait(c.table.display.messageMs);
    c.expectScreen('lockCode', 'after LOCK PIN');
    await driver.off(c.hold, c.table.display.idleTimeoutMs);
    await driver.press('PRESS', c.hold);
    if (!c.screenShows('lockCode', driver.text) || driver.frame?.locked !== true) {
      throw new ConformanceError(`lock not honoured: after a power cycle the locked card shows ${JSON.stringify(driver.text)}${driver.frame?.locked ? '' : ' without the lock indicator'}, expected its lock code`);
    }
    await driver.type(target.pin, 'OK');
    c.expectPrompt('unlock', 'OK at the lock code (the PIN digits must be ignored)');
    const code = unlockCode(target.secret, lastLockCode(c));
    await driver.type(code, 'OK');
    c.expectPrompt('newPin', 'after the right unlock code');
    await setPin(c, target.pin);
    await driver.wait(c.table.display.messageMs);
    c.expectPrompt('challenge', 'after PIN SET');
    if (!(await answer(c, randomQuestion(c), target.pin))) throw new ConformanceError('wrong response after unlocking');
    return 'locked, lock code kept across power-off, unlocked with the derived code, PIN set again';
  });
}
