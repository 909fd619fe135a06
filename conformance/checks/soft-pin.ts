/** The dscplus soft PIN: a wrong PIN is taken and mixed into the response. */
import { ConformanceError } from '../driver.ts';
import type { Conformance } from '../harness.ts';
import { answer, powerOn, randomQuestion, restore } from '../card-procedures.ts';

export async function softPin(c: Conformance): Promise<void> {
  await c.check('soft PIN: a wrong PIN is accepted and gives the response of that PIN, not of the right one', async () => {
    const wrongPin = c.target.pin.slice(0, 3) + String((Number(c.target.pin[3]) + 1) % 10);
    await restore(c);
    await powerOn(c);
    await c.driver.type(wrongPin, 'OK');
    c.expectPrompt('challenge', 'after a wrong soft PIN');
    const question = randomQuestion(c);
    const counterBefore = c.target.counter;
    if (!(await answer(c, question, wrongPin))) {
      c.target.counter = counterBefore;
      throw new ConformanceError(`the response to ${question} under a wrong PIN does not verify as that PIN's response`);
    }
    return 'the PIN is mixed into the response';
  });
}
