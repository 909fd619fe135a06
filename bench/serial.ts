/**
 * The serial link's speed over a real pseudo-terminal pair (socat), through serialport and the
 * kernel's tty layer:
 * - key-to-frame round trip: a KD goes out, the card's FR and AK come back (median and p99), with the
 *   real firmware behind the link, next to the same round trip to a card that only counts (the
 *   protocol's and the pty's share);
 * - frames per second: pipelined key events, each answered by one FR and one AK, next to the wire-time
 *   limit at 115200 baud (10 bits per byte: start + 8 data + stop; a pty does not enforce the baud rate,
 *   so a measured rate above the limit means the link code is not the bottleneck at that speed);
 * - the link's memory under a peer that never reads: a real `dsc bridge` process on a kernel pty whose
 *   other end (tests/serial/support/deaf-peer.py) offers 16 MiB of lines that each draw a reply and reads
 *   nothing; the bridge's resident memory at its peak, next to the same bridge idle.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { powerHoldMs } from '../firmware/types.ts';
import { openCard, provisionDeviceFile } from '../emulator/card.ts';
import { CardLink, type CardLike, type WireFrame } from '../emulator/serial/card-link.ts';
import { encodeLine } from '../emulator/serial/codec.ts';
import { PanelLink } from '../emulator/serial/panel-link.ts';
import { closePort, defaultBaudRate, openPort } from '../emulator/serial/port.ts';
import { encodeLine as lineOf } from '../emulator/serial/codec.ts';
import { protocolVersion, sendQueueBytesMax, sendQueuePauseBytes } from '../emulator/serial/messages.ts';
import { deafPeer, peakWhile, python, residentBytes } from '../tests/serial/support/flood.ts';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { percentiles, type Row } from './harness.ts';

const section = 'serial';
/** Round trips per latency sample set. */
const roundTrips = 2_000;
/** Key events in the pipelined throughput run. */
const pipelinedEvents = 4_000;
/** Lines in flight at once in the throughput run (under half of the 1000-number sequence circle). */
const pipelineWindow = 400;
/** Bits on the wire per byte at 8N1. */
const bitsPerByte = 10;

/** A card that shows a new frame for every key event: the protocol's share of the cost, no firmware. */
class CountingCard implements CardLike {
  frame: WireFrame = { number: 0, text: '', indicators: { lowBattery: false, locked: false } };
  readonly #listeners = new Set<(frame: WireFrame) => void>();
  #next(): WireFrame {
    this.frame = { ...this.frame, number: this.frame.number + 1, text: String(this.frame.number % 100_000_000) };
    for (const listener of this.#listeners) listener(this.frame);
    return this.frame;
  }
  keyDown(): WireFrame {
    return this.#next();
  }
  keyUp(): WireFrame {
    return this.#next();
  }
  advance(): WireFrame {
    return this.frame;
  }
  onFrame(listener: (frame: WireFrame) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

async function ptyPair(): Promise<{ a: string; b: string; close: () => void }> {
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const paths = await new Promise<string[]>((resolve, reject) => {
    let stderr = '';
    child.on('error', reject);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr += text;
      const found = [...stderr.matchAll(/PTY is (\/dev\/\S+)/g)].map((m) => m[1]!);
      if (found.length >= 2 && /starting data transfer loop/.test(stderr)) resolve(found);
    });
  });
  return { a: paths[0]!, b: paths[1]!, close: () => child.kill('SIGTERM') };
}

/** `card` answering on one end of a fresh pty pair and a connected panel on the other, for the length of `use`. */
async function withLinkedCard<T>(card: CardLike, use: (panel: PanelLink) => Promise<T>): Promise<T> {
  const pair = await ptyPair();
  const cardPort = await openPort(pair.a, defaultBaudRate);
  const panelPort = await openPort(pair.b, defaultBaudRate);
  const cardLink = new CardLink(cardPort, card, { identity: { model: 'BENCH', firmware: '0', serial: '0', clock: 'virtual' }, clock: 'virtual' });
  const panel = new PanelLink(panelPort, { identity: { model: 'BENCH', firmware: '0', serial: '-', clock: 'real' } });
  try {
    await panel.connect();
    return await use(panel);
  } finally {
    cardLink.close();
    panel.close();
    await closePort(cardPort);
    await closePort(panelPort);
    pair.close();
  }
}

async function measure(card: CardLike, label: string, note: string): Promise<Row[]> {
  return withLinkedCard(card, async (panel) => {
    const samples: number[] = [];
    for (let i = 0; i < roundTrips; i++) {
      const key = i % 2 === 0 ? '5' : 'BACK';
      const start = performance.now();
      await panel.keyDown(key);
      samples.push(performance.now() - start);
      await panel.keyUp(key);
    }
    const { median, p99 } = percentiles(samples);
    return [
      { section, name: `key-to-frame round trip, ${label} (median)`, value: median * 1000, unit: 'µs', note },
      { section, name: `key-to-frame round trip, ${label} (p99)`, value: p99 * 1000, unit: 'µs', note },
    ];
  });
}

async function throughput(): Promise<Row[]> {
  return withLinkedCard(new CountingCard(), async (panel) => {
    const start = performance.now();
    // In windows of `pipelineWindow` lines: more in flight than half the sequence circle would read as stale.
    for (let sent = 0; sent < pipelinedEvents; sent += pipelineWindow) {
      const pending: Array<Promise<unknown>> = [];
      for (let i = sent; i < sent + pipelineWindow; i++) pending.push(panel.sendAcked({ type: i % 2 === 0 ? 'keyDown' : 'keyUp', key: '5' }, 60_000));
      await Promise.all(pending);
    }
    const elapsedS = (performance.now() - start) / 1000;
    const measured = pipelinedEvents / elapsedS;
    // What each frame costs on the wire: its FR line and the AK that follows it (the KD goes the other way, full duplex).
    const frameLine = encodeLine(999, { type: 'frame', number: 123456, text: '12345678', lowBattery: false, locked: false });
    const ackLine = encodeLine(999, { type: 'ack', ref: 999, frame: 123456 });
    const wireLimit = defaultBaudRate / bitsPerByte / (frameLine.length + ackLine.length);
    const frameOnly = defaultBaudRate / bitsPerByte / frameLine.length;
    return [
      { section, name: 'frames/s, pipelined key events over a pty', value: measured, unit: 'frames/s', ratio: measured / wireLimit, reference: 'wire limit FR+AK @115200', note: 'a pty ignores the baud rate' },
      { section, name: `wire limit at ${defaultBaudRate} baud, FR+AK (${frameLine.length}+${ackLine.length} bytes)`, value: wireLimit, unit: 'frames/s', note: '10 bits per byte (8N1)' },
      { section, name: `wire limit at ${defaultBaudRate} baud, FR alone (${frameLine.length} bytes)`, value: frameOnly, unit: 'frames/s', note: 'timer-driven frames carry no AK' },
    ];
  });
}

/** The real firmware behind the link: a fresh dscplus card on a virtual clock, powered on at PIN>. */
function realCard(): { card: CardLike; close: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dsc-bench-serial-'));
  const devicePath = join(dir, 'card.json');
  provisionDeviceFile(devicePath, { profile: 'dscplus', pin: '2580' });
  const session = openCard({ devicePath, clock: 'virtual' });
  session.press('PRESS', powerHoldMs); // power on: digits and BACK now edit the PIN, a new frame each
  return {
    card: session,
    close: () => {
      session.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Bytes the non-reading peer offers: a link that queued every answer would hold about three times this. */
const deafOfferedBytes = 16 * 1024 * 1024;

async function memoryUnderDeafPeer(): Promise<Row[]> {
  if (!existsSync(python)) {
    process.stderr.write(`bench serial: ${python} is missing; the non-reading peer row is skipped\n`);
    return [];
  }
  const dir = mkdtempSync(join(tmpdir(), 'dsc-bench-deaf-'));
  const devicePath = join(dir, 'card.json');
  provisionDeviceFile(devicePath, { profile: 'dscplus', pin: '2580' });
  const peer = await deafPeer(dir);
  const dsc = fileURLToPath(new URL('../bin/dsc.js', import.meta.url));
  const bridge = spawn(process.execPath, [dsc, 'bridge', '--port', peer.path, '--device', devicePath, '--clock', 'virtual'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DSC_FROM_SOURCES: '1' } });
  try {
    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      bridge.stderr.setEncoding('utf8').on('data', (text: string) => {
        stderr += text;
        if (/answering on/.test(stderr)) resolve();
      });
      bridge.once('exit', (code) => reject(new Error(`dsc bridge exited with ${code}: ${stderr}`)));
    });
    const idle = residentBytes(bridge.pid!) ?? 0;
    const tester = { model: 'BENCH', firmware: '0', serial: '-', clock: 'real' } as const;
    const opening = lineOf(0, { type: 'hello', version: protocolVersion, ...tester }) + lineOf(1, { type: 'keyDown', key: 'PRESS' });
    const lines = Buffer.from(opening + lineOf(1, { type: 'keyDown', key: 'PRESS' }).repeat(1_000), 'latin1');
    const { value: taken, peakResidentBytes } = await peakWhile(bridge.pid!, peer.send(lines, deafOfferedBytes, 2_000));
    const mib = 1024 * 1024;
    return [
      {
        section,
        name: 'dsc bridge resident memory, peer never reads (16 MiB offered)',
        value: peakResidentBytes / mib,
        unit: 'MiB',
        ratio: peakResidentBytes / idle,
        reference: 'the same bridge idle',
        note: `took ${Math.round(taken / 1024)} KiB, then stopped reading (pause at ${sendQueuePauseBytes} B queued, ${sendQueueBytesMax} B max)`,
      },
    ];
  } finally {
    bridge.kill('SIGTERM');
    await new Promise((resolve) => bridge.once('exit', resolve));
    peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function bench(): Promise<Row[]> {
  if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0) {
    process.stderr.write('bench serial: socat is not installed (apt-get install socat); the pseudo-terminal measurements are skipped\n');
    return [];
  }
  const rows: Row[] = [];
  rows.push(...(await measure(new CountingCard(), 'counting card', 'protocol + pty alone')));
  const real = realCard();
  try {
    rows.push(...(await measure(real.card, 'firmware (dscplus)', 'PIN entry keys on the real card session')));
  } finally {
    real.close();
  }
  rows.push(...(await throughput()));
  rows.push(...(await memoryUnderDeafPeer()));
  return rows;
}
