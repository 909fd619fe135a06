/** `dsc host enroll | assign | devices`: putting devices in the database and seeing them. */
import { DeviceRecordError } from '../../firmware/device-record.ts';
import { exitOk, UsageError } from '../io.ts';
import { kindOption, opt, readInput, str, type HostCommand } from './command.ts';

export const deviceCommands: Record<string, HostCommand> = {
  enroll: {
    summary: 'enrol a device file (from dsc provision) for a user',
    usage: 'dsc host enroll --user U --device DEVICE.json [--kind KIND] [--pin -]',
    options: { user: { type: 'string' }, device: { type: 'string' }, kind: { type: 'string' }, pin: { type: 'string' } },
    creates: true,
    secrets: ['pin'],
    async run(host, v, io, secrets) {
      // The PIN chosen at ordering is in the device file; --pin only overrides it.
      const pin = v.pin === undefined ? undefined : await secrets.read(v, 'pin', this.secrets!, 'PIN');
      const path = opt(v, 'device');
      let json: unknown;
      try {
        json = JSON.parse(readInput(path, io.cwd, 'device file'));
      } catch (error) {
        if (error instanceof SyntaxError) throw new UsageError(`device file ${path} is not JSON: ${error.message}`);
        throw error;
      }
      let info;
      try {
        info = await host.enroll({ user: opt(v, 'user'), record: json, ...(pin !== undefined && { pin }), ...(kindOption(str(v, 'kind')) && { kind: kindOption(str(v, 'kind'))! }) });
      } catch (error) {
        if (error instanceof DeviceRecordError || error instanceof RangeError || error instanceof TypeError) throw new UsageError(`device file ${path}: ${error.message}`);
        throw error;
      }
      return { code: exitOk, text: `enrolled ${info.serial} (${info.kind}, ${info.suite}) for ${opt(v, 'user')}`, json: info };
    },
  },
  assign: {
    summary: 'give an enrolled device to another user (shared device), or --deactivate it',
    usage: 'dsc host assign --user U --device SERIAL [--deactivate]',
    options: { user: { type: 'string' }, device: { type: 'string' }, deactivate: { type: 'boolean' } },
    async run(host, v) {
      const info = await host.assign({ user: opt(v, 'user'), serial: opt(v, 'device'), active: v.deactivate !== true });
      return { code: exitOk, text: `${info.serial} ${info.active ? 'active' : 'inactive'} for ${opt(v, 'user')} (users: ${info.users.join(', ')})`, json: info };
    },
  },
  devices: {
    summary: "list a user's devices (or one device by serial)",
    usage: 'dsc host devices --user U  |  dsc host devices --device SERIAL',
    options: { user: { type: 'string' }, device: { type: 'string' } },
    async run(host, v) {
      const list = str(v, 'device') !== undefined ? [await host.device(str(v, 'device')!)] : await host.devices(opt(v, 'user'));
      const text = list.map((d) => `${d.serial}\t${d.kind}\t${d.profile}\t${d.suite}\t${d.active ? 'active' : 'inactive'}${d.locked ? '\tLOCKED' : ''}${d.failures ? `\t${d.failures} failures` : ''}\tusers: ${d.users.join(',')}`).join('\n');
      return { code: exitOk, text, json: list };
    },
  },
};
