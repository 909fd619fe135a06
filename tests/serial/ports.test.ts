/**
 * `dsc ports` is serialport's own listing. On Linux serialport reads `udevadm info -e`; the test puts
 * a stand-in udevadm that prints one USB serial adapter in udev's database format first on the PATH,
 * so the real SerialPort.list() parses it. The formatting is also checked on serialport's mock binding.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { SerialPortMock } from 'serialport';
import { afterAll, describe, expect, it } from 'vitest';
import { listPorts } from '../../cli/ports.ts';
import type { Io } from '../../cli/io.ts';
import { runDsc } from '../support/cli.ts';

const udevDatabase = `P: /devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/ttyUSB0/tty/ttyUSB0
N: ttyUSB0
E: DEVNAME=/dev/ttyUSB0
E: ID_VENDOR_ENC=FTDI
E: ID_VENDOR_ID=0403
E: ID_MODEL_ID=6001
E: ID_SERIAL_SHORT=A50285BI
E: SUBSYSTEM=tty

P: /devices/virtual/tty/tty0
N: tty0
E: DEVNAME=/dev/tty0

`;

function captureIo(): { io: Io; out: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { io: { stdin: new PassThrough(), stdout, stderr: new PassThrough(), env: {}, cwd: '.' }, out: () => text };
}

describe.skipIf(process.platform !== 'linux')('dsc ports on Linux', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsc-ports-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists what serialport reads from udev, as text and as JSON', () => {
    const fake = join(dir, 'udevadm');
    writeFileSync(fake, `#!/bin/sh\ncat <<'EOF'\n${udevDatabase}EOF\n`);
    chmodSync(fake, 0o755);
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
    const text = runDsc(['ports'], { env });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toBe('/dev/ttyUSB0  FTDI  vendor 0403  product 6001  serial A50285BI\n');
    const json = runDsc(['ports', '--json'], { env });
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ path: '/dev/ttyUSB0', manufacturer: 'FTDI', vendorId: '0403', productId: '6001', serialNumber: 'A50285BI' })]);
  });

  it('says clearly when the system cannot list its ports (no udevadm)', () => {
    const result = runDsc(['ports'], { env: { ...process.env, PATH: join(dir, 'empty') } });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/serialport lists ports with `udevadm`, which is not installed here/);
  });
});

describe('listPorts on serialport mock binding', () => {
  // The binding instance serialport itself uses (importing @serialport/binding-mock directly may load a second copy).
  const MockBinding = SerialPortMock.binding;
  afterAll(() => MockBinding.reset());

  it('prints one line per port, and a hint when there is none', async () => {
    const empty = captureIo();
    MockBinding.reset();
    expect(await listPorts(empty.io, false, () => SerialPortMock.list())).toBe(0);
    expect(empty.out()).toMatch(/^no serial ports found/);
    MockBinding.createPort('/dev/ROBOT', { echo: false, record: false, manufacturer: 'Acme', vendorId: '1234', productId: '5678' });
    const one = captureIo();
    await listPorts(one.io, false, () => SerialPortMock.list());
    // The mock numbers its ports itself.
    expect(one.out()).toMatch(/^\/dev\/ROBOT {2}Acme {2}vendor 1234 {2}product 5678 {2}serial \d+\n$/);
  });

  it('rejects an unknown option with exit 2', () => {
    const result = runDsc(['ports', '--all']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Unknown option '--all'/);
  });
});
