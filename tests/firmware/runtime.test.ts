// The card runtime (emulator/card.ts): the real clock schedules the firmware's deadlines itself, device files
// are rewritten atomically on every commit, bad files are refused untouched, and a failed write stops the card.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeviceFileError, openCard, openCardFromRecord, provisionDeviceFile } from '../../emulator/card.ts';
import { parseDeviceRecord, recordImage } from '../../firmware/device-record.ts';
import { decodeImage } from '../../firmware/memory.ts';
import { idleTimeoutMs, powerHoldMs, type Frame } from '../../firmware/types.ts';
import { secret, startMs, testPin, testRecord } from './support.ts';
import { scratchFolder } from '../support/temp.ts';

const dir = scratchFolder('dsc-runtime-');

afterEach(() => {
  vi.useRealTimers();
});

describe('card runtime', () => {
  it('real clock: a held PRESS powers on after 2 s and idleness powers off after 30 s, by its own timers', () => {
    vi.useFakeTimers({ now: startMs });
    const card = openCardFromRecord(testRecord('dscplus'), { clock: 'real' });
    const frames: Frame[] = [];
    card.onFrame((frame) => frames.push(frame));
    card.keyDown('PRESS');
    vi.advanceTimersByTime(powerHoldMs - 1);
    expect(frames).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(frames.map((f) => [f.text, f.atMs])).toEqual([['PIN>', startMs + powerHoldMs]]);
    card.keyUp('PRESS');
    vi.advanceTimersByTime(idleTimeoutMs);
    expect(frames.at(-1)!.text).toBe('');
    expect(() => card.advance(10)).toThrow(/virtual clock/);
    expect(() => card.press('PRESS', powerHoldMs)).toThrow(/virtual clock/);
    card.close();
  });

  it('rewrites the device file atomically on every commit and saves the virtual clock on close', () => {
    const path = join(dir, 'card.json');
    provisionDeviceFile(path, { profile: 'digipass', pin: testPin, secret: secret(), clockMs: startMs, serial: 7 });
    const card = openCard({ devicePath: path, clock: 'virtual' });
    card.press('PRESS', powerHoldMs);
    for (const key of '1111') card.press(key as '1');
    card.press('OK');
    // No close yet: the wrong-PIN count is already on disk.
    const onDisk = parseDeviceRecord(JSON.parse(readFileSync(path, 'utf8')));
    expect(decodeImage(recordImage(onDisk)).state.wrongPins).toBe(1);
    card.advance(5_000);
    card.close();
    expect(parseDeviceRecord(JSON.parse(readFileSync(path, 'utf8'))).clockMs).toBe(card.nowMs);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a truncated device file with a DeviceFileError naming it, and leaves it alone', () => {
    const path = join(dir, 'truncated.json');
    provisionDeviceFile(path, { secret: secret() });
    const text = readFileSync(path, 'utf8').slice(0, 300);
    writeFileSync(path, text);
    expect(() => openCard({ devicePath: path, clock: 'virtual' })).toThrow(DeviceFileError);
    expect(() => openCard({ devicePath: path, clock: 'virtual' })).toThrow(/truncated\.json" is not valid JSON/);
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(() => provisionDeviceFile(path, { secret: secret() })).toThrow(/already exists/);
  });

  it('stops the card when a write fails, as a power loss would', () => {
    let writes = 0;
    const card = openCardFromRecord(testRecord('dscplus'), {
      clock: 'virtual',
      save: () => {
        if (++writes === 2) throw new Error('disk full');
      },
    });
    card.press('PRESS', powerHoldMs);
    card.press('1');
    for (const key of ['2', '3', '4', 'OK', '1', '2', '3', '4', '5', '6'] as const) card.press(key);
    expect(() => card.press('OK')).toThrow(/disk full/);
    expect(() => card.press('OK')).toThrow(/closed/);
  });
});
