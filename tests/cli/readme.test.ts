// The README's examples, followed in order in one fresh folder, must not trip over each other: no section
// makes a device file another section already made (dsc provision refuses to overwrite one without
// --force), and no example chooses a PIN dsc provision refuses as weak.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isPin, isWeakPin } from '../../firmware/pin.ts';
import { repoRoot } from '../support/cli.ts';

const readme = readFileSync(`${repoRoot}/README.md`, 'utf8');
const blocks = [...readme.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)].map((m) => m[1]!);
const provisions = blocks.flatMap((block) => block.split('\n').filter((line) => /\bdsc provision\b/.test(line)));

describe('README examples in order', () => {
  it('has provisioning examples to check', () => {
    expect(provisions.length).toBeGreaterThanOrEqual(3);
  });

  it('each dsc provision writes a device file no earlier example made (or says --force)', () => {
    const made = new Map<string, string>();
    for (const line of provisions) {
      const out = /--out\s+(\S+)/.exec(line)?.[1];
      expect(out, line).toBeDefined();
      if (made.has(out!) && !/--force\b/.test(line)) expect.fail(`${out} is made twice:\n  ${made.get(out!)}\n  ${line}`);
      made.set(out!, line);
    }
  });

  it('no example provisions a PIN dsc provision refuses', () => {
    for (const block of blocks) {
      for (const line of block.split('\n').filter((l) => /\bdsc provision\b/.test(l))) {
        // The PIN is on the command line (--pin 4826) or piped in (printf '4826\n' | … --pin -).
        const pin = /--pin\s+(\d+)/.exec(line)?.[1] ?? /printf '(\d+)\\n'/.exec(line)?.[1];
        if (pin === undefined) continue;
        expect(isPin(pin), line).toBe(true);
        expect(isWeakPin(pin), line).toBe(false);
      }
    }
  });
});
