/**
 * `dsc host …`: the login server on the command line. Each subcommand opens the database, does one thing in
 * one transaction, prints a line (or JSON with --json) and exits: 0 ok, 1 refused (wrong response, locked…),
 * 2 bad input (unknown user, malformed response, corrupt database…) with nothing written.
 *
 * The commands live in files by group (devices.ts, login.ts, fallbacks.ts, admin.ts, pskc.ts); a new group is
 * a file exporting a Record<string, HostCommand> added to `groups` below.
 */
import { join, resolve } from 'node:path';
import { HostError, HostKeyError, openHostFile, SealError, StoreError, type HostFile } from '../../host/index.ts';
import { isPostgresUrl } from '../../host/pg-url.ts';
import { StoreRefusal } from '../../host/store.ts';
import { dataFolder, exitFailure, exitOk, exitUsage, parseOptions, UsageError, write, type Io } from '../io.ts';
import { adminCommands } from './admin.ts';
import type { CommandResult, HostCommand, Values } from './command.ts';
import { SecretReader, visibleNote } from '../secrets.ts';
import { deviceCommands } from './devices.ts';
import { fallbackCommands } from './fallbacks.ts';
import { loginCommands } from './login.ts';
import { pskcCommands } from './pskc.ts';

/** The database file inside the data folder (./.dsc/ or $DSC_HOME, see cli/io.ts `dataFolder`). */
export const defaultDbName = 'host.sqlite';

const groups: readonly Record<string, HostCommand>[] = [deviceCommands, pskcCommands, loginCommands, adminCommands, fallbackCommands];

/** Every subcommand by name, in the order `dsc host --help` lists them. */
export const hostCommands: Readonly<Record<string, HostCommand>> = (() => {
  const all: Record<string, HostCommand> = {};
  for (const group of groups) {
    for (const [name, command] of Object.entries(group)) {
      if (Object.hasOwn(all, name)) throw new Error(`dsc host: two commands named ${name}`);
      all[name] = command;
    }
  }
  return all;
})();

const common = `Common options:
  --db PATH   the host database (default ./.dsc/${defaultDbName}, or $DSC_HOME/${defaultDbName}); created by enroll and import only
  --db postgres://USER@HOST:PORT/DATABASE
              a PostgreSQL database shared by several verifiers; never a password in the URL: PGPASSWORD or ~/.pgpass
  --host-key-file PATH   with --db postgres://…: the host key file (mode 0600; created with a new database, when the command succeeds)
  --json      print one JSON value instead of text
  --help      this help
The host key seals every secret in the database: DSC_HOST_KEY (64 hex digits) or the key file PATH.key,
created with mode 0600 beside a new database (with PostgreSQL: --host-key-file); the database keeps a check value
of it and refuses another key.
Secrets (passwords, PINs, responses, codes, session tokens): ${visibleNote}
Exit codes: 0 ok; 1 refused (wrong response, expired, already used, locked…); 2 bad input (nothing written).`;

function usage(): string {
  const width = Math.max(...Object.keys(hostCommands).map((s) => s.length));
  return [
    'usage: dsc host SUBCOMMAND [options]     (dsc host SUBCOMMAND --help)',
    '',
    ...Object.entries(hostCommands).map(([name, s]) => `  ${name.padEnd(width)}  ${s.summary}`),
    `  ${'serve'.padEnd(width)}  the verifier as an HTTP service for your login server (dsc host serve --help)`,
    '',
    'example:',
    '  $ dsc host enroll --user trader1 --device card.json',
    '  $ dsc host set-password --user trader1            (asks for the password)',
    '  $ dsc host login --user trader1                   (asks for the password)',
    '  482913',
    '  $ dsc host verify --user trader1 --challenge 482913   (asks for the response; prints the session token)',
    '',
    common,
  ].join('\n');
}

async function openFor(io: Io, dbOption: string | undefined, keyFile: string | undefined, creates: boolean): Promise<HostFile> {
  const hostKeyHex = io.env.DSC_HOST_KEY;
  if (dbOption !== undefined && isPostgresUrl(dbOption)) {
    // Every commit goes straight to the server; only a key minted for a new database waits for the command's
    // success to be published as its key file (host/pg-open.ts).
    // node-postgres is loaded only for a PostgreSQL database: SQLite commands do not pay for it.
    const { openPgHost } = await import('../../host/pg-open.ts');
    const opened = await openPgHost({
      url: dbOption, create: creates, env: io.env,
      ...(hostKeyHex !== undefined && { hostKeyHex }), ...(keyFile !== undefined && { keyFile: resolve(io.cwd, keyFile) }),
    });
    return { host: opened.host, publish: () => opened.publish(), close: () => opened.close() };
  }
  if (keyFile !== undefined) throw new UsageError('--host-key-file goes with --db postgres://…; a SQLite database keeps its key file beside it (PATH.key)');
  const dbPath = dbOption === undefined ? join(dataFolder(io), defaultDbName) : resolve(io.cwd, dbOption);
  return openHostFile({ dbPath, shownAs: dbOption ?? dbPath, create: creates, ...(hostKeyHex !== undefined && { hostKeyHex }) });
}

/**
 * Attempts of a creating command on a database that other processes create at the same moment. The first may
 * lose the race for the key file while the winner has not yet written the database; the second, built on the
 * winner's key, may then lose the race for the database file itself; the third finds that database and opens it.
 */
const createAttemptsMax = 3;

/**
 * Run the command on the database. A creating command's new database is published only when it succeeded;
 * if another process created the database meanwhile, the command runs again on theirs.
 */
async function runOn(io: Io, dbOption: string | undefined, sub: HostCommand, values: Values, secrets: SecretReader): Promise<CommandResult> {
  for (let attempt = 1; ; attempt++) {
    const file = await openFor(io, dbOption, values['host-key-file'] as string | undefined, sub.creates === true);
    try {
      const result = await sub.run(file.host, values, io, secrets);
      if (result.code !== exitOk) return result;
      if (file.publish() !== 'raced') return result;
      if (attempt >= createAttemptsMax) throw new UsageError(`the database was created by another process meanwhile; run the command again`);
    } finally {
      await file.close();
    }
  }
}

export async function run(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    write(name === undefined ? io.stderr : io.stdout, usage());
    return name === undefined ? exitUsage : exitOk;
  }
  // The service is long-lived and opens its own store (group commit), unlike the one-shot subcommands.
  if (name === 'serve') return (await import('./serve.ts')).serve(rest, io);
  const sub = Object.hasOwn(hostCommands, name) ? hostCommands[name] : undefined;
  if (!sub) throw new UsageError(`unknown subcommand ${JSON.stringify(name)}; run \`dsc host --help\` for the list`);
  const { values } = parseOptions(rest, { ...sub.options, db: { type: 'string' }, 'host-key-file': { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    const secretsNote = sub.secrets ? `\nSecret options (${sub.secrets.map((n) => `--${n}`).join(', ')}): give - to read each from stdin, one line each in this order, or leave them out to be asked. ${visibleNote}\n` : '';
    write(io.stdout, `usage: ${sub.usage}\n\n${sub.summary}.\n${secretsNote}\n${common}`);
    return exitOk;
  }
  const json = values.json === true;
  try {
    const result = await runOn(io, values.db as string | undefined, sub, values as Values, new SecretReader(io));
    if (json) write(io.stdout, JSON.stringify(result.json));
    else {
      if (result.text !== '') write(io.stdout, result.text);
      if (result.note !== undefined) write(io.stderr, result.note);
    }
    return result.code;
  } catch (error) {
    if (error instanceof HostError) {
      if (json) write(io.stdout, JSON.stringify({ ok: false, reason: error.reason, message: error.message }));
      if (error.badInput) throw new UsageError(error.message);
      write(io.stderr, `dsc host ${name}: ${error.message}`);
      return exitFailure;
    }
    if (error instanceof StoreError || error instanceof HostKeyError || error instanceof SealError) throw new UsageError(error.message);
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) throw new UsageError(`database ${values.db ?? join(dataFolder(io), defaultDbName)}: ${(error as Error).message} (${code})`);
    // A PostgreSQL error mid-command (the server went away): the transaction was rolled back.
    if (typeof (error as { severity?: unknown }).severity === 'string' || error instanceof StoreRefusal) throw new UsageError(`database ${values.db}: ${(error as Error).message}${code ? ` (${code})` : ''}; nothing was changed`);
    throw error;
  }
}
