/**
 * What a `dsc host` subcommand is, and the helpers the command files share. To add commands, write a file
 * exporting a `Record<string, HostCommand>` and list it in cli/host/index.ts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LoginHost } from '../../host/index.ts';
import { deviceKinds, type DeviceKind } from '../../host/index.ts';
import { required, UsageError, type Io } from '../io.ts';
import type { SecretReader } from '../secrets.ts';

/** Device files and PSKC containers larger than this are refused unread. */
export const inputFileBytesMax = 4 * 1024 * 1024;

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandResult {
  readonly code: number;
  /** What a script captures: the value alone (stdout). */
  readonly text: string;
  /** A description for the person at the terminal (stderr), not mixed into the value. */
  readonly note?: string;
  readonly json: unknown;
}

export interface HostCommand {
  readonly summary: string;
  readonly usage: string;
  readonly options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
  /** Whether the command may create the database (only enrolment does). */
  readonly creates?: boolean;
  /** The secret options, in the order their `-` lines are read from stdin (cli/host/secrets.ts). */
  readonly secrets?: readonly string[];
  run(host: LoginHost, values: Values, io: Io, secrets: SecretReader): CommandResult | Promise<CommandResult>;
}

export const str = (values: Values, name: string) => values[name] as string | undefined;
export const opt = (values: Values, name: string) => required(name, str(values, name));

export function readInput(path: string, cwd: string, what: string): string {
  const full = resolve(cwd, path);
  let text: Buffer;
  try {
    text = readFileSync(full);
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (text.length > inputFileBytesMax) throw new UsageError(`${what} ${path} is ${text.length} bytes, more than ${inputFileBytesMax}`);
  return text.toString('utf8');
}

export function kindOption(value: string | undefined): DeviceKind | undefined {
  if (value === undefined) return undefined;
  if (!(deviceKinds as readonly string[]).includes(value)) throw new UsageError(`--kind expected one of ${deviceKinds.join(', ')}, got ${JSON.stringify(value)}`);
  return value as DeviceKind;
}

export function usd(amount: number): string {
  return `USD ${amount.toLocaleString('en-US')}`;
}

export function dateOf(ms: number): string {
  return new Date(ms).toISOString();
}
