/**
 * `dsc ports` is serialport's own listing. On Linux serialport reads `udevadm info -e`; the test puts
 * a stand-in udevadm that prints one USB serial adapter in udev's database format first on the PATH,
 * so the real SerialPort.list() parses it. The formatting is also checked on serialport's mock binding.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { SerialPortMock } from 'serialport';
import { afterAll, describe, expect, it } from 'vitest';
import { listPorts } from '../../cli/ports.ts';
import { listSysfsPorts } from '../../emulator/serial/sysfs-ports.ts';
import type { Io } from '../../cli/io.ts';
import { runDsc, runDscInProcess } from '../support/cli.ts';

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

  it('lists from /sys with exit 0 where udevadm is missing', () => {
    const result = runDsc(['ports'], { env: { ...process.env, PATH: join(dir, 'empty') } });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/`udevadm` is not installed here; USB serial adapters listed from \/sys/);
    // What this machine has is whatever it has; every line names a /dev path, or says there is none.
    expect(result.stdout).toMatch(/^(no serial ports found|(\/dev\/\S+.*\n)+$)/);
  });
});

describe('listSysfsPorts on a sysfs tree laid out as Linux lays it out', () => {
  const root = mkdtempSync(join(tmpdir(), 'dsc-sysfs-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds the USB adapters (ttyUSB below an interface, ttyACM) with their ids and strings, and skips the rest', () => {
    const usb = join(root, 'devices/pci0000:00/0000:00:14.0/usb1');
    const ftdi = join(usb, '1-2');
    const acm = join(usb, '1-3');
    for (const [folder, files] of [
      [ftdi, { idVendor: '0403', idProduct: '6001', manufacturer: 'FTDI', product: 'FT232R USB UART', serial: 'A50285BI' }],
      [acm, { idVendor: '2341', idProduct: '0043', product: 'Arduino Uno' }],
    ] as const) {
      mkdirSync(folder, { recursive: true });
      for (const [name, value] of Object.entries(files)) writeFileSync(join(folder, name), `${value}\n`);
    }
    const ttyUsb = join(ftdi, '1-2:1.0/ttyUSB0');
    mkdirSync(join(ttyUsb, 'tty/ttyUSB0'), { recursive: true });
    mkdirSync(join(acm, '1-3:1.0/tty/ttyACM0'), { recursive: true });
    const builtIn = join(root, 'devices/platform/serial8250');
    mkdirSync(join(builtIn, 'tty/ttyS0'), { recursive: true });
    mkdirSync(join(root, 'devices/virtual/tty/tty0'), { recursive: true });
    mkdirSync(join(root, 'class/tty'), { recursive: true });
    symlinkSync(join(ttyUsb, 'tty/ttyUSB0'), join(root, 'class/tty/ttyUSB0'));
    symlinkSync(ttyUsb, join(ttyUsb, 'tty/ttyUSB0/device'));
    symlinkSync(join(acm, '1-3:1.0/tty/ttyACM0'), join(root, 'class/tty/ttyACM0'));
    symlinkSync(join(acm, '1-3:1.0'), join(acm, '1-3:1.0/tty/ttyACM0/device'));
    symlinkSync(join(builtIn, 'tty/ttyS0'), join(root, 'class/tty/ttyS0'));
    symlinkSync(builtIn, join(builtIn, 'tty/ttyS0/device'));
    symlinkSync(join(root, 'devices/virtual/tty/tty0'), join(root, 'class/tty/tty0'));
    expect(listSysfsPorts(root)).toEqual([
      { path: '/dev/ttyACM0', product: 'Arduino Uno', vendorId: '2341', productId: '0043' },
      { path: '/dev/ttyUSB0', manufacturer: 'FTDI', product: 'FT232R USB UART', serialNumber: 'A50285BI', vendorId: '0403', productId: '6001' },
    ]);
  });

  it('gives an empty list where there is no sysfs', () => {
    expect(listSysfsPorts(join(root, 'nothing-here'))).toEqual([]);
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

  it('rejects an unknown option with exit 2', async () => {
    const result = await runDscInProcess(['ports', '--all']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Unknown option '--all'/);
  });
});
