/**
 * `dsc ports`: the serial ports of this machine, as serialport's own listing (SerialPort.list())
 * reports them, so what a tester sees here is exactly what `--port` accepts.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { SerialPort } from 'serialport';
import { listSysfsPorts } from '../emulator/serial/sysfs-ports.ts';
import { exitFailure, exitOk, parseOptions, write, type Io } from './io.ts';

/** What serialport lists, or what sysfs tells (which has no pnpId or locationId). */
type PortInfo = Partial<Pick<Awaited<ReturnType<typeof SerialPort.list>>[number], 'manufacturer' | 'serialNumber' | 'vendorId' | 'productId'>> & { readonly path: string; readonly product?: string };

const help = `usage: dsc ports [--json]

Lists the serial ports of this machine (serialport's SerialPort.list()): one per line with its
maker and USB ids when known, or a JSON array with --json. Where \`udevadm\` is missing (containers,
minimal installs), USB serial adapters are listed from /sys instead (path, vendor and product ids,
product name, serial number). Pseudo-terminals (socat, /dev/pts/N) are not listed by the system;
pass their path to --port directly.

example:
  $ dsc ports
  /dev/ttyUSB0  FTDI  vendor 0403 product 6001  serial A50285BI

Exit codes: 0 listed (perhaps none); 1 the system cannot list its ports (the message says why).`;

/** Is `name` an executable on the PATH? */
function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * One port as a line: its path, then whatever the system knows about it.
 * @example
 * describePort({ path: '/dev/ttyUSB0', manufacturer: 'FTDI', vendorId: '0403' }); // '/dev/ttyUSB0  FTDI  vendor 0403'
 */
export function describePort(port: PortInfo): string {
  const details = [
    port.manufacturer,
    port.product,
    port.vendorId === undefined ? undefined : `vendor ${port.vendorId}`,
    port.productId === undefined ? undefined : `product ${port.productId}`,
    port.serialNumber === undefined ? undefined : `serial ${port.serialNumber}`,
  ].filter((part) => part !== undefined && part !== '');
  return [port.path, ...details].join('  ');
}

/**
 * The listing, with the port lister handed in so tests can use serialport's mock binding.
 * @example
 * await listPorts(io, false, () => SerialPortMock.list());
 */
export async function listPorts(io: Io, json: boolean, list: () => Promise<PortInfo[]>): Promise<number> {
  const ports = await list();
  if (json) {
    write(io.stdout, JSON.stringify(ports, null, 2));
    return exitOk;
  }
  if (ports.length === 0) {
    write(io.stdout, 'no serial ports found (a pseudo-terminal is not listed; give its path to --port)');
    return exitOk;
  }
  for (const port of ports) write(io.stdout, describePort(port));
  return exitOk;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions(argv, { json: { type: 'boolean' } });
  if (values.help) {
    write(io.stdout, help);
    return exitOk;
  }
  // On Linux serialport lists ports by running `udevadm info -e` and crashes the process when it is
  // missing (the spawn error has no handler in @serialport/bindings-cpp 13), so look first, and read
  // the USB adapters from sysfs instead.
  if (process.platform === 'linux' && !onPath('udevadm', io.env)) {
    write(io.stderr, 'dsc ports: `udevadm` is not installed here; USB serial adapters listed from /sys');
    return listPorts(io, values.json === true, async () => listSysfsPorts());
  }
  try {
    return await listPorts(io, values.json === true, () => SerialPort.list());
  } catch (error) {
    write(io.stderr, `dsc ports: the system could not list its serial ports: ${(error as Error).message}`);
    return exitFailure;
  }
}
