/**
 * `dsc host serve`: the verifier as a long-lived HTTP service (service/). Listens on loopback unless
 * --allow-remote is given, says where on start, and on SIGTERM or SIGINT stops accepting, lets in-flight
 * requests finish and commit, and exits 0.
 */
import { join, resolve } from 'node:path';
import { auditKeepMsDefault, auditKeepMsMax, auditKeepMsMin, dayMs, HostKeyError, lockLimitMax, SealError, StoreError } from '../../host/index.ts';
import { isPostgresUrl } from '../../host/pg-url.ts';
import type { Synchronous } from '../../host/sqlite-store.ts';
import { AdminTokenError, adminTokenEnv, loadAdminToken } from '../../service/admin-token.ts';
import { buildService } from '../../service/app.ts';
import { defaultListen, ListenError, parseListen } from '../../service/listen.ts';
import { openServiceHost } from '../../service/open.ts';
import { dataFolder, exitOk, parseOptions, UsageError, write, type Io } from '../io.ts';

const usage = `usage: dsc host serve [--listen ${defaultListen}] [--db PATH | --db postgres://USER@HOST:PORT/DB [--host-key-file FILE]]
                      [--durable] [--admin-token-file FILE] [--allow-remote] [--create] [--lock-limit N]
                      [--audit-keep-days N]

Serve the verifier over HTTP: the login calls (/v1/login/start, /v1/login/verify, PIN change, withdrawals),
the admin calls (/v1/admin/…, with the admin token), /openapi.json, /healthz, /metrics and a login page at /.

  --listen HOST:PORT        where to listen (default ${defaultListen}); port 0 picks a free one
  --allow-remote            allow a non-loopback --listen address (put TLS in front of it)
  --db PATH                 the host database (default ./.dsc/host.sqlite, or $DSC_HOME/host.sqlite)
  --db postgres://USER@HOST:PORT/DB
                            a PostgreSQL database: run several instances on it (a challenge is consumed once,
                            failures count toward one lockout); no password in the URL: PGPASSWORD or ~/.pgpass
  --host-key-file FILE      with PostgreSQL: the host key file (mode 0600), when DSC_HOST_KEY is not set
  --create                  create an empty database (and its key file) when PATH does not exist (PostgreSQL:
                            the schema in an empty database, and the key file when it does not exist)
  --lock-limit N            consecutive failures that lock a device and an account (default 10, at most ${lockLimitMax});
                            give every instance on one database the same value
  --audit-keep-days N       how long audit entries are kept (default ${auditKeepMsDefault / dayMs}, 1..${auditKeepMsMax / dayMs}); older
                            ones are deleted a few at a time as new ones are written
  --durable                 synchronous=FULL: every answer is on disk before it is sent (group commit
                            shares one fsync among the verifications that arrive together)
  --admin-token-file FILE   the admin token (mode 0600, at least 32 characters); else $${adminTokenEnv};
                            without either, every admin call is refused
The host key is DSC_HOST_KEY (64 hex digits) or the key file PATH.key, as for every dsc host command.
SIGTERM or SIGINT: stop accepting, finish and commit in-flight requests, exit 0.`;

/** How long a drain may take before the process gives up waiting (in-flight requests are bounded by requestTimeoutMs). */
export const drainTimeoutMs = 30_000;

export async function serve(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions(argv, {
    listen: { type: 'string' }, 'allow-remote': { type: 'boolean' }, db: { type: 'string' }, create: { type: 'boolean' },
    durable: { type: 'boolean' }, 'admin-token-file': { type: 'string' }, 'host-key-file': { type: 'string' }, 'lock-limit': { type: 'string' },
    'audit-keep-days': { type: 'string' },
  });
  if (values.help) {
    write(io.stdout, usage);
    return exitOk;
  }
  let listen;
  let adminToken: string | undefined;
  try {
    listen = parseListen(values.listen ?? defaultListen, values['allow-remote'] === true);
    const tokenFile = values['admin-token-file'];
    adminToken = loadAdminToken(tokenFile === undefined ? undefined : resolve(io.cwd, tokenFile), io.env);
  } catch (error) {
    if (error instanceof ListenError || error instanceof AdminTokenError) throw new UsageError(error.message);
    throw error;
  }
  const postgres = values.db !== undefined && isPostgresUrl(values.db);
  const keyFile = values['host-key-file'];
  if (keyFile !== undefined && !postgres) throw new UsageError('--host-key-file goes with --db postgres://…; a SQLite database keeps its key file beside it (PATH.key)');
  if (postgres && values.durable === true) throw new UsageError('--durable is for SQLite: PostgreSQL commits are durable as the server is configured (synchronous_commit)');
  const dbPath = values.db === undefined ? join(dataFolder(io), 'host.sqlite') : postgres ? values.db : resolve(io.cwd, values.db);
  const synchronous: Synchronous = values.durable === true ? 'FULL' : 'NORMAL';
  let lockLimit: number | undefined;
  if (values['lock-limit'] !== undefined) {
    lockLimit = Number(values['lock-limit']);
    if (!/^\d{1,3}$/.test(values['lock-limit']) || lockLimit < 1 || lockLimit > lockLimitMax) throw new UsageError(`--lock-limit expected 1..${lockLimitMax} failures, got ${JSON.stringify(values['lock-limit'].slice(0, 20))}`);
  }
  let auditKeepMs: number | undefined;
  const keepDays = values['audit-keep-days'];
  if (keepDays !== undefined) {
    auditKeepMs = Number(keepDays) * dayMs;
    if (!/^\d{1,5}$/.test(keepDays) || auditKeepMs < auditKeepMsMin || auditKeepMs > auditKeepMsMax) {
      throw new UsageError(`--audit-keep-days expected ${auditKeepMsMin / dayMs}..${auditKeepMsMax / dayMs} days, got ${JSON.stringify(keepDays.slice(0, 20))}`);
    }
  }
  const hostOptions = { ...(lockLimit !== undefined && { lockLimit }), ...(auditKeepMs !== undefined && { auditKeepMs }) };
  let opened;
  try {
    opened = await openServiceHost({
      dbPath, shownAs: values.db ?? dbPath, synchronous, create: values.create === true, env: io.env,
      ...(io.env.DSC_HOST_KEY !== undefined && { hostKeyHex: io.env.DSC_HOST_KEY }),
      ...(keyFile !== undefined && { keyFile: resolve(io.cwd, keyFile) }),
      hostOptions,
    });
  } catch (error) {
    if (error instanceof StoreError || error instanceof HostKeyError || error instanceof SealError) throw new UsageError(error.message);
    throw error;
  }
  const service = await buildService({ host: opened.host, storeStats: () => opened.store.stats!(), ...(adminToken !== undefined && { adminToken }) });
  // The signal handlers come before the address is printed: whoever reads it may signal at once. They stay
  // installed until the process exits, so a second signal never cuts a drain short.
  let draining = false;
  let stopped!: () => void;
  const finished = new Promise<void>((resolve) => (stopped = resolve));
  const stop = (signal: string) => {
    if (draining) return;
    draining = true;
    write(io.stdout, `dsc host serve: ${signal}: draining in-flight requests`);
    const timer = setTimeout(() => {
      write(io.stderr, `dsc host serve: drain took more than ${drainTimeoutMs} ms; exiting (uncommitted calls were not answered)`);
      process.exit(1);
    }, drainTimeoutMs);
    timer.unref();
    void service.close().then(() => {
      clearTimeout(timer);
      write(io.stdout, 'dsc host serve: stopped');
      stopped();
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await service.app.listen({ host: listen.host, port: listen.port });
  } catch (error) {
    await service.close();
    throw new UsageError(`cannot listen on ${values.listen ?? defaultListen}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const address = service.app.server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const shownHost = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  write(io.stdout, `dsc host serve: listening on http://${shownHost}:${port}/ (${listen.loopback ? 'loopback only: other machines cannot connect' : 'REMOTE: reachable from other machines'}), database ${values.db ?? dbPath} (${postgres ? 'PostgreSQL, shared with every instance on it' : synchronous === 'FULL' ? 'durable, group commit' : 'synchronous=NORMAL'}), admin calls ${adminToken === undefined ? 'disabled (no admin token)' : 'enabled'}`);
  await finished;
  return exitOk;
}
