/** Random challenges, each response verified with the OCRA engine on the device's secret. */
import { ConformanceError } from '../driver.ts';
import type { Conformance } from '../harness.ts';
import { answer, emptyPinText, powerOn, randomQuestion, restore } from '../card-procedures.ts';

export async function responses(c: Conformance): Promise<void> {
  await c.check(`responses: ${c.options.responses} random challenges verify with the device's secret (${c.target.suite.text})`, async () => {
    await restore(c);
    await powerOn(c);
    c.expectScreen('pin', 'power-on', emptyPinText);
    await c.driver.type(c.target.pin, 'OK');
    c.expectPrompt('challenge', 'after the PIN');
    const wrong: string[] = [];
    for (let i = 0; i < c.options.responses; i++) {
      const question = randomQuestion(c);
      if (!(await answer(c, question, c.target.pin))) wrong.push(question);
      await c.driver.press('OK');
      c.expectPrompt('challenge', 'OK at the response');
    }
    if (wrong.length > 0) throw new ConformanceError(`wrong response: ${wrong.length} of ${c.options.responses} responses do not verify (challenges ${wrong.join(', ')})`);
    return `${c.options.responses} of ${c.options.responses} verified`;
  });
}
