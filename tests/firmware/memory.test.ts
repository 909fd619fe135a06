// The persistent memory image: layout bounds, torn writes at every byte of every write, the wrong-PIN
// counter committed before the check, corruption detection, and the secret sealed (never in the clear).
import { hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { recordImage } from '../../firmware/device-record.ts';
import type { CardState } from '../../firmware/card-state.ts';
import { bootCard, step } from '../../firmware/machine.ts';
import { crc32 } from '../../firmware/crc32.ts';
import { decodeImage, MemoryImageError, slotBytes, slotOffsets, staticBytes, type Persistent } from '../../firmware/memory.ts';
import { memoryImageBytes, powerHoldMs, type CardEffect, type CardEvent, type Key } from '../../firmware/types.ts';
import { countingRandom, secret, secretHex, startMs, testRecord, type TestDevice } from './support.ts';
import { unlockCode } from '../../firmware/unlock.ts';

const entropy = new Uint8Array([1, 2, 3, 4]);

/** Drive the pure firmware and collect every image it asks to persist, in order. */
function session(profile: 'dscplus' | 'digipass', script: (Key | number | 'HOLD')[], device: TestDevice = 'default') {
  const record = testRecord(profile, device, countingRandom(3));
  const deviceKey = hexToBytes(record.deviceKey);
  let state: CardState = bootCard(recordImage(record), deviceKey, startMs);
  const images: Uint8Array[] = [recordImage(record)];
  const effects: CardEffect[] = [];
  const apply = (event: CardEvent) => {
    const result = step(state, event);
    state = result.state;
    effects.push(...result.effects);
    for (const effect of result.effects) if (effect.type === 'persist') images.push(effect.image);
  };
  for (const item of script) {
    if (typeof item === 'number') apply({ type: 'tick', atMs: state.nowMs + item });
    else if (item === 'HOLD') {
      apply({ type: 'keyDown', key: 'PRESS', atMs: state.nowMs, entropy });
      apply({ type: 'keyUp', key: 'PRESS', atMs: state.nowMs + powerHoldMs });
    } else {
      apply({ type: 'keyDown', key: item, atMs: state.nowMs, entropy });
      apply({ type: 'keyUp', key: item, atMs: state.nowMs + 50 });
    }
  }
  return { images, effects, deviceKey, state: () => state };
}

const keysOf = (text: string): Key[] => text.split(' ').flatMap((t) => (/^\d+$/.test(t) ? (t.split('') as Key[]) : [t as Key]));
const powerOn: 'HOLD'[] = ['HOLD'];

describe('memory image', () => {
  it('is exactly 256 bytes: a 176-byte static block and two 40-byte slots', () => {
    expect(staticBytes + 2 * slotBytes).toBe(memoryImageBytes);
    expect(memoryImageBytes).toBeLessThanOrEqual(256);
    expect(recordImage(testRecord('dscplus'))).toHaveLength(256);
  });

  it('uses the standard CRC-32 (check value of "123456789" is 0xCBF43926)', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('never holds the secret in the clear (no 4-byte window of it appears in the image)', () => {
    const secret = hexToBytes(secretHex);
    for (const profile of ['dscplus', 'digipass'] as const) {
      const hex = testRecord(profile).image;
      for (let i = 0; i + 4 <= secret.length; i++) {
        const window = Buffer.from(secret.subarray(i, i + 4)).toString('hex');
        // Hex offsets must be byte-aligned to count as a match.
        const at = [...hex.matchAll(new RegExp(window, 'g'))].filter((m) => m.index % 2 === 0);
        expect(at, `secret bytes ${i}..${i + 3} found in the ${profile} image`).toHaveLength(0);
      }
    }
  });

  it('survives power loss at every byte of every write: the image decodes to the old or the new state', () => {
    // A session that writes every kind of commit: power on, wrong PINs, lock, unlock tries, right PIN, PIN change, responses.
    // The lock code is drawn from the entropy the keyDown carries: its first 4 bytes, big-endian, mod 10^7.
    const lockCode = String(new DataView(entropy.buffer).getUint32(0) % 10 ** 7).padStart(7, '0');
    const unlock = unlockCode(secret(), lockCode);
    const scripts: Array<['dscplus' | 'digipass', string, TestDevice?]> = [
      ['dscplus', 'PIN 1234 OK 123456 OK OK 654321 OK'],
      ['dscplus', 'PIN 1234 OK 123456 OK OK 654321 OK', 'counter'],
      ['digipass', `PIN 1111 OK 1111 OK 1111 OK 1111 OK 1111 OK OK ${unlock} OK 4827 OK 4827 OK`],
      ['digipass', 'PIN 1111 OK 2580 OK 123456 OK OK PIN 4827 OK 4827 OK IDLE PIN 1111 OK 1111 OK 1111 OK 1111 OK 1111 OK OK 00000000 OK OK 00000000 OK OK 00000000 OK'],
    ];
    let writes = 0;
    let torn = 0;
    const reasons = new Set<string>();
    for (const [profile, text, device] of scripts) {
      const script = text.split(' ').flatMap((t): (Key | number | 'HOLD')[] => (t === 'PIN' ? powerOn : t === 'IDLE' ? [31_000] : keysOf(t)));
      const { images, effects } = session(profile, script, device);
      for (const effect of effects) if (effect.type === 'persist') reasons.add(effect.reason);
      for (let w = 1; w < images.length; w++) {
        const before = images[w - 1]!;
        const after = images[w]!;
        const old = decodeImage(before).state;
        const next = decodeImage(after).state;
        expect(next.seq).toBe((old.seq + 1) >>> 0);
        writes++;
        // The write stores bytes in address order; power fails after `cut` bytes, with byte `cut` half-written.
        for (let cut = 0; cut <= memoryImageBytes; cut++) {
          for (const garbage of [0x00, 0xff, 0x5a]) {
            const image = before.slice();
            image.set(after.subarray(0, cut));
            if (cut < memoryImageBytes && before[cut] !== after[cut]) image[cut] = garbage;
            const got = decodeImage(image).state;
            torn++;
            const isOld = sameState(got, old);
            const isNew = sameState(got, next);
            if (!isOld && !isNew) throw new Error(`write ${w} cut at byte ${cut}: neither old nor new state`);
            // The counters are intact: never below the old values.
            expect(got.wrongPins >= old.wrongPins || next.wrongPins < old.wrongPins).toBe(true);
            expect(got.counter).toBeGreaterThanOrEqual(old.counter);
          }
        }
      }
    }
    // Every kind of commit the firmware makes, but the battery hook, was torn at every byte.
    expect([...reasons].sort()).toEqual(
      ['PIN accepted', 'blocked', 'counter before response', 'locked', 'new PIN', 'power on', 'response', 'unlock counter before check', 'unlocked', 'wrong-PIN counter before check'].sort(),
    );
    expect(writes).toBeGreaterThanOrEqual(20);
    expect(torn).toBeGreaterThan(writes * 256 * 3 - 1);
  });

  it('commits the wrong-PIN counter before checking the PIN, so pulling the battery never resets it', () => {
    for (const pin of ['1111', '2580']) {
      const { effects } = session('digipass', [...powerOn, ...keysOf(`${pin} OK`)]);
      const afterOk = effects.slice(effects.findIndex((e) => e.type === 'display' && e.frame.text === 'PIN>----') + 1);
      // The first thing after OK is the write of the raised counter; no frame comes before it.
      expect(afterOk[0]?.type).toBe('persist');
      const first = afterOk[0]!.type === 'persist' ? decodeImage(afterOk[0]!.image).state : undefined;
      expect(first?.wrongPins).toBe(1);
      expect(afterOk[0]!.type === 'persist' && afterOk[0]!.reason).toBe('wrong-PIN counter before check');
    }
    // Pull the battery after every wrong PIN: the count still reaches 5 and locks.
    const record = testRecord('digipass');
    const deviceKey = hexToBytes(record.deviceKey);
    let image = recordImage(record);
    for (let attempt = 1; attempt <= 5; attempt++) {
      let state = bootCard(image, deviceKey, startMs);
      const events: CardEvent[] = [
        { type: 'keyDown', key: 'PRESS', atMs: startMs },
        { type: 'tick', atMs: startMs + powerHoldMs },
        ...keysOf('1111 OK').map((key) => ({ type: 'keyDown' as const, key, atMs: startMs + powerHoldMs, entropy })),
      ];
      let firstWriteAfterOk: Uint8Array | undefined;
      for (const event of events) {
        const result = step(state, event);
        state = result.state;
        for (const effect of result.effects) {
          if (effect.type !== 'persist') continue;
          if (event.type === 'keyDown' && event.key === 'OK') firstWriteAfterOk ??= effect.image;
          else image = effect.image;
        }
      }
      // Power is lost right after the first write of the OK: only that write reached the memory.
      image = firstWriteAfterOk!;
      expect(decodeImage(image).state.wrongPins).toBe(attempt);
    }
    expect(decodeImage(image).state.wrongPins).toBe(5);
  });

  it('falls back to the older slot when the newer one is corrupt', () => {
    const { images } = session('digipass', [...powerOn, ...keysOf('1111 OK')]);
    const last = images.at(-1)!;
    const { slot, state } = decodeImage(last);
    const previous = decodeImage(images.at(-2)!).state;
    const flipped = last.slice();
    flipped[slotOffsets[slot] + 5] = flipped[slotOffsets[slot] + 5]! ^ 0x01;
    expect(sameState(decodeImage(flipped).state, previous)).toBe(true);
    expect(state.seq).toBe(previous.seq + 1);
  });

  it.each([
    ['empty', () => new Uint8Array(0), /expected 256 bytes, got 0/],
    ['truncated', (i: Uint8Array) => i.slice(0, 255), /expected 256 bytes, got 255/],
    ['too long', (i: Uint8Array) => Uint8Array.from([...i, 0]), /expected 256 bytes, got 257/],
    ['bad magic', (i: Uint8Array) => flip(i, 0), /does not start with "DSC\+"/],
    ['newer layout version', (i: Uint8Array) => set(i, 4, 2), /layout version 2 is not supported/],
    ['a bit flipped in the static block', (i: Uint8Array) => flip(i, 20), /static block fails its CRC-32/],
    ['both slots broken', (i: Uint8Array) => flip(flip(i, slotOffsets[0] + 1), slotOffsets[1] + 1), /no valid state slot/],
  ])('rejects an image that is %s with a MemoryImageError naming the problem', (_, corrupt, message) => {
    const { images } = session('dscplus', [...powerOn]);
    const bad = corrupt(images.at(-1)!);
    expect(() => decodeImage(bad)).toThrow(MemoryImageError);
    expect(() => decodeImage(bad)).toThrow(message);
  });

  it('detects every single-bit flip of the static block', () => {
    const image = recordImage(testRecord('digipass'));
    for (let bit = 0; bit < staticBytes * 8; bit++) {
      const bad = image.slice();
      bad[bit >> 3] = bad[bit >> 3]! ^ (1 << (bit & 7));
      expect(() => decodeImage(bad)).toThrow(MemoryImageError);
    }
  });
});

function flip(image: Uint8Array, at: number): Uint8Array {
  const out = image.slice();
  out[at] = out[at]! ^ 0xff;
  return out;
}

function set(image: Uint8Array, at: number, value: number): Uint8Array {
  const out = image.slice();
  out[at] = value;
  return out;
}

function sameState(a: Persistent, b: Persistent): boolean {
  return JSON.stringify({ ...a, pinCheck: [...a.pinCheck] }) === JSON.stringify({ ...b, pinCheck: [...b.pinCheck] });
}
