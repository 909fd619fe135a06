/**
 * USB serial adapters from Linux sysfs, for machines without `udevadm` (containers, minimal installs),
 * where serialport's own listing cannot run. Everything needed is in /sys: each tty under
 * /sys/class/tty whose device sits below a USB device, and that USB device's ids and strings.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The fields `dsc ports` shows; the same names as serialport's listing. */
export interface SysfsPort {
  readonly path: string;
  readonly manufacturer?: string;
  readonly product?: string;
  readonly serialNumber?: string;
  readonly vendorId?: string;
  readonly productId?: string;
}

/** How many folders up from a tty's device a USB device is looked for (interface, then device). */
const usbDepthMax = 4;

function attribute(folder: string, name: string): string | undefined {
  try {
    const value = readFileSync(join(folder, name), 'utf8').trim();
    return value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * The USB serial ports sysfs knows, sorted by path.
 * @example
 * listSysfsPorts(); // [{ path: '/dev/ttyUSB0', vendorId: '0403', productId: '6001', product: 'FT232R USB UART', … }]
 */
export function listSysfsPorts(sysRoot = '/sys', devRoot = '/dev'): SysfsPort[] {
  const classFolder = join(sysRoot, 'class', 'tty');
  let names: string[];
  try {
    names = readdirSync(classFolder);
  } catch {
    return [];
  }
  const ports: SysfsPort[] = [];
  for (const name of names) {
    const device = join(classFolder, name, 'device');
    if (!existsSync(device)) continue; // a virtual terminal or a pseudo-terminal
    let folder = realpathSync(device);
    for (let depth = 0; depth < usbDepthMax && attribute(folder, 'idVendor') === undefined; depth++) folder = dirname(folder);
    const vendorId = attribute(folder, 'idVendor');
    if (vendorId === undefined) continue; // not below a USB device (a built-in UART)
    const fields = {
      manufacturer: attribute(folder, 'manufacturer'),
      product: attribute(folder, 'product'),
      serialNumber: attribute(folder, 'serial'),
      vendorId,
      productId: attribute(folder, 'idProduct'),
    };
    ports.push({ path: join(devRoot, name), ...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) });
  }
  return ports.sort((a, b) => a.path.localeCompare(b.path));
}
