/**
 * The reference board (board/): what it takes of the ATmega328P, and how fast a key reaches its LCD.
 * - flash (.text + .data) and static RAM (.data + .bss) from avr-size, against the bound of
 *   half the chip (16 KiB of 32 KiB flash, 1 KiB of 2 KiB RAM);
 * - the stack's high-water mark, by stack painting in the simavr harness over a whole login with line
 *   noise (every path that sends an ER or says HI again), added to the static RAM;
 * - key-to-LCD latency through the simulated board at 115200 baud with `dsc serial` on the PC: from the
 *   moment a key's contact closes to the LCD's last write of the frame it produced (simulated time,
 *   kept in step with the wall clock), next to the wire-time limit: the debounce plus the KD line and
 *   the FR line at 10 bits per byte.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boardDir, boardToolsMissing, buildBoard, elfPath, SimBoard, sleep, startSerialCard, waitConnected, type BoardKey } from '../board/sim/sim-board.ts';
import { percentiles, type Row } from './harness.ts';

const section = 'board';
const flashBytes = 32 * 1024;
const ramBytes = 2 * 1024;
/** The bound: half the chip. */
const boundShare = 0.5;
/** The line speed of the run (the firmware's UART setting and dsc serial's default). */
const baud = 115_200;

/** DEBOUNCE_MS, read from the firmware's config.h (its one owner). */
function debounceMsOfFirmware(): number {
  const match = /^#define DEBOUNCE_MS (\d+)/m.exec(readFileSync(join(boardDir, 'dscplus_board', 'config.h'), 'utf8'));
  if (match === null) throw new Error('board/dscplus_board/config.h defines no DEBOUNCE_MS');
  return Number(match[1]);
}
const bitsPerByte = 10;
/** Cycles of "five digits, then five ◄" on the challenge, each key changing the display once. */
const latencyCycles = 6;
const holdMs = 100;
const gapMs = 80;

function sections(): Record<string, number> {
  const result = spawnSync('avr-size', ['-A', elfPath], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`avr-size failed: ${result.stderr}`);
  const sizes: Record<string, number> = {};
  for (const match of result.stdout.matchAll(/^(\.\w+)\s+(\d+)\s+\d+$/gm)) sizes[match[1]!] = Number(match[2]);
  return sizes;
}

export async function bench(): Promise<Row[]> {
  const missing = boardToolsMissing();
  if (missing !== null) throw new Error(`${missing}: cannot build the board`);
  buildBoard();
  const size = sections();
  const debounceMs = debounceMsOfFirmware();
  const flash = (size['.text'] ?? 0) + (size['.data'] ?? 0);
  const staticRam = (size['.data'] ?? 0) + (size['.bss'] ?? 0);

  const dir = mkdtempSync(join(tmpdir(), 'dsc-bench-board-'));
  const device = join(dir, 'card.json');
  const made = spawnSync(process.execPath, ['bin/dsc.js', 'provision', '--pin', '4826', '--out', device], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`dsc provision failed: ${made.stderr}`);
  const board = await SimBoard.start();
  const card = startSerialCard(board.pty, device, ['--trace']);
  const keyAt = new Map<number, number>();
  let keys = 0;
  board.onReport((line) => {
    const down = /^key (\d+) down /.exec(line);
    if (down !== null) keyAt.set(keys++, Number(down[1]));
  });
  const latenciesUs: number[] = [];
  let kdBytes: number;
  let frBytes: number;
  try {
    await waitConnected(board, card);
    const press = async (key: BoardKey) => {
      await board.press(key, holdMs);
      await sleep(gapMs);
    };
    board.down('PRESS');
    await board.waitForLcd((view) => view.text === 'PIN>', 10_000, 'the card did not power on');
    board.up('PRESS');
    for (const key of ['1', '2', '3', '4', 'OK'] as const) await press(key);
    await board.waitForLcd((view) => view.text === 'CHALLNG>', 5_000, 'no challenge prompt');
    // Every key below changes the display once: time from its contact closing to that frame's LCD write.
    const timed = async (key: BoardKey, text: string) => {
      const index = keys;
      const before = board.lcd.length;
      board.down(key);
      await board.waitForLcd((view) => view.text === text, 5_000, `key ${key} never showed ${text}`);
      const shown = board.lcd.slice(before).find((report) => report.rows[0].trimEnd() === text)!;
      latenciesUs.push(shown.atUs - keyAt.get(index)!);
      await sleep(holdMs);
      board.up(key);
      await sleep(gapMs);
    };
    await timed('9', '9');
    for (let cycle = 0; cycle < latencyCycles; cycle++) {
      for (const digit of '12345') await timed(digit as BoardKey, `9${'12345'.slice(0, '12345'.indexOf(digit) + 1)}`);
      for (let left = 5; left > 0; left--) await timed('BACK', `9${'12345'.slice(0, left - 1)}`);
    }
    // Line noise in both directions while keys go out: the stack's deepest paths (ER, resync HI).
    for (let i = 0; i < 20; i++) {
      board.noise(i % 2 === 0 ? 'in' : 'out', Buffer.from(`KD 9${i} 5*00\r\nFR "x*\r\n`, 'latin1'));
      await press(i % 2 === 0 ? '7' : 'BACK');
    }
    await sleep(2_500); // a resend after the reply timeout, if the noise cost one
    const stack = await board.stackHighWater();
    // The bytes of a digit's KD line and of an FR line in this run (dsc serial's trace), CR LF included.
    const median = (lines: string[]) => percentiles(lines.map((line) => line.length + 2)).median;
    kdBytes = median([...card.stderr.matchAll(/^rx (KD \d+ \d\*[0-9A-F]{4})$/gm)].map((m) => m[1]!));
    frBytes = median([...card.stderr.matchAll(/^tx (FR .*)$/gm)].map((m) => m[1]!));
    const wireMs = debounceMs + ((kdBytes + frBytes) * bitsPerByte * 1000) / baud;
    const latency = percentiles(latenciesUs.map((us) => us / 1000));
    return [
      { section, name: 'flash: .text + .data (avr-size)', value: flash, unit: 'bytes', ratio: flash / (flashBytes * boundShare), reference: 'bound: 50% of 32 KiB', note: `${((100 * flash) / flashBytes).toFixed(1)}% of the ATmega328P` },
      { section, name: 'RAM static: .data + .bss (avr-size)', value: staticRam, unit: 'bytes', note: `${((100 * staticRam) / ramBytes).toFixed(1)}% of 2 KiB` },
      { section, name: 'RAM stack high-water (stack painting, simavr)', value: stack, unit: 'bytes', note: `login, ${latenciesUs.length} timed keys, line noise both ways` },
      { section, name: 'RAM static + stack', value: staticRam + stack, unit: 'bytes', ratio: (staticRam + stack) / (ramBytes * boundShare), reference: 'bound: 50% of 2 KiB' },
      { section, name: `key-to-LCD latency, median (${latenciesUs.length} keys)`, value: latency.median, unit: 'ms', ratio: latency.median / wireMs, reference: `wire limit ${wireMs.toFixed(1)} ms`, note: `simavr + dsc serial @${baud}: ${debounceMs} ms debounce + KD and FR lines` },
      { section, name: 'key-to-LCD latency, p99', value: latency.p99, unit: 'ms', ratio: latency.p99 / wireMs, reference: `wire limit ${wireMs.toFixed(1)} ms` },
    ];
  } finally {
    await card.stop();
    await board.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
