/**
 * One round of logins timed in CPU, as the key-cache and scale benches take them: a challenge for each of
 * `count` devices (untimed), then their verifications, timed with process.cpuUsage. Device `i` is user `u${i}`
 * with the secret `secretOf(i)`.
 */
import { ocra } from '../firmware/ocra/index.ts';
import type { LoginHost } from '../host/index.ts';
import { secretOf } from './secrets.ts';

/**
 * A round function for `alternateSamples`: each call runs `count` logins on the devices `nextDevice` names and
 * returns verifications per CPU second. Any refused login throws, naming `bench`.
 * @example
 * const warm = loginRound(host, { suite, pin, count: 100, bench: 'scale' }, () => next++ % warmDevices);
 */
export function loginRound(
  host: Pick<LoginHost, 'challenge' | 'verify'>,
  options: { readonly suite: string; readonly pin: string; readonly count: number; readonly bench: string; readonly onLogins?: (count: number) => void },
  nextDevice: () => number,
): () => Promise<number> {
  const { suite, pin, count, bench } = options;
  return async () => {
    const answers = [];
    for (let k = 0; k < count; k++) {
      const i = nextDevice();
      const { challenge } = await host.challenge({ user: `u${i}` });
      answers.push({ user: `u${i}`, challenge, response: ocra(suite, secretOf(i), { challenge, pin }), purpose: 'login' as const });
    }
    const start = process.cpuUsage();
    for (const answer of answers) {
      if (!(await host.verify(answer)).ok) throw new Error(`${bench} bench: the login of ${answer.user} was refused`);
    }
    const used = process.cpuUsage(start);
    options.onLogins?.(answers.length);
    return (answers.length / (used.user + used.system)) * 1e6;
  };
}
