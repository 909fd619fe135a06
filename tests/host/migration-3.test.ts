/**
 * Schema migration 3 on a database written by schema 2: the issued-challenge bitmap's 512-byte chunks become
 * 128-byte ones and every bit survives ("never reissued" must hold across the upgrade), all-zero quarters are
 * left out, and the sessions (rebuilt as a WITHOUT ROWID table on SQLite) keep their rows. On SQLite and, when
 * it is there, PostgreSQL; random chunks from this run's seed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { issuedChunkBytes } from '../../host/issued-bits.ts';
import { migrationSteps } from '../../host/migrations.ts';
import { versionTable } from '../../host/pg-schema.ts';
import { openPgStore } from '../../host/pg-store.ts';
import { openSqliteStore } from '../../host/sqlite-store.ts';
import type { SessionRow, Store } from '../../host/store.ts';
import { postgresSkipReason, sql, testDatabase, testPostgres } from '../support/postgres.ts';
import { propertyParams } from '../support/seed.ts';

const oldChunkBytes = 512;
const schemaBefore = 2;
const t0 = 1_764_000_000_000;
const dir = mkdtempSync(join(tmpdir(), 'dsc-migration-3-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Old chunks: some bytes set at random places, some chunks with whole quarters clear. */
const oldChunks = fc.array(
  fc.record({
    serial: fc.constantFrom('1001', '1002', '77777777'),
    chunk: fc.integer({ min: 0, max: 219 }),
    set: fc.array(fc.record({ at: fc.integer({ min: 0, max: oldChunkBytes - 1 }), value: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 40 }),
  }),
  { minLength: 1, maxLength: 12 },
).map((chunks) => {
  const byKey = new Map<string, { serial: string; chunk: number; bits: Uint8Array }>();
  for (const c of chunks) {
    const bits = new Uint8Array(oldChunkBytes);
    for (const { at, value } of c.set) bits[at] = value;
    byKey.set(`${c.serial}/${c.chunk}`, { serial: c.serial, chunk: c.chunk, bits });
  }
  return [...byKey.values()];
});

const sessions: SessionRow[] = [1, 2, 3].map((n) => ({ tokenHash: new Uint8Array(32).fill(n), user: `u${n % 2}`, serial: '1001', createdMs: t0 + n, expiresMs: t0 + 900_000 + n }));

/** Every set bit of the old chunks, as bit indexes. */
function setBits(chunks: { serial: string; chunk: number; bits: Uint8Array }[]): string[] {
  const out: string[] = [];
  for (const c of chunks) for (let i = 0; i < c.bits.length * 8; i++) if (c.bits[i >> 3]! & (1 << (i & 7))) out.push(`${c.serial}/${c.chunk * oldChunkBytes * 8 + i}`);
  return out.sort();
}

/** What the migrated store holds: the set bits read back chunk by chunk, the sessions, the chunk count. */
async function readBack(store: Store, chunks: { serial: string; chunk: number }[]): Promise<{ bits: string[]; sessions: unknown[] }> {
  const quarters = oldChunkBytes / issuedChunkBytes;
  return store.transaction(async (t) => {
    const bits: string[] = [];
    for (const c of chunks) {
      for (let q = 0; q < quarters; q++) {
        const chunk = c.chunk * quarters + q;
        const got = await t.issuedBits(c.serial, chunk);
        if (got) {
          expect(got.length).toBe(issuedChunkBytes);
          expect(got.some((b) => b !== 0)).toBe(true); // all-zero quarters are not stored
          for (let i = 0; i < issuedChunkBytes * 8; i++) if (got[i >> 3]! & (1 << (i & 7))) bits.push(`${c.serial}/${chunk * issuedChunkBytes * 8 + i}`);
        }
      }
    }
    // Token hashes as plain arrays: the stores hand back Buffers or Uint8Arrays.
    const rows = await Promise.all(sessions.map((s) => t.session(s.tokenHash)));
    return { bits: bits.sort(), sessions: rows.map((r) => r && { ...r, tokenHash: [...r.tokenHash] }) };
  });
}

/** Open the migrated database's store, check every old bit and every session came through, close it. */
async function expectAllKept(open: () => Store | Promise<Store>, chunks: { serial: string; chunk: number; bits: Uint8Array }[]): Promise<void> {
  const store = await open();
  try {
    const back = await readBack(store, chunks);
    expect(back.bits).toEqual(setBits(chunks));
    expect(back.sessions).toEqual(sessions.map((r) => ({ ...r, tokenHash: [...r.tokenHash] })));
  } finally {
    await store.close();
  }
}

describe('schema migration 3 keeps every issued bit and every session', () => {
  it('on SQLite', async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(oldChunks, async (chunks) => {
      const path = join(dir, `old-${run++}.sqlite`);
      const old = new Database(path);
      old.pragma('journal_mode = WAL');
      for (const step of migrationSteps.slice(0, schemaBefore)) old.exec(step.sqlite);
      old.pragma(`user_version = ${schemaBefore}`);
      const put = old.prepare('INSERT INTO issued_bits (serial, chunk, bits) VALUES (?, ?, ?)');
      for (const c of chunks) put.run(c.serial, c.chunk, c.bits);
      const putSession = old.prepare('INSERT INTO sessions (token_hash, user, serial, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)');
      for (const s of sessions) putSession.run(s.tokenHash, s.user, s.serial, s.createdMs, s.expiresMs);
      old.close();

      await expectAllKept(() => openSqliteStore(path, { create: false }), chunks);
      const db = new Database(path, { readonly: true });
      expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'challenges_expiry'").pluck().get()).toBe(0);
      expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'sessions'").pluck().get()).toMatch(/WITHOUT ROWID/);
      db.close();
    }), propertyParams(25));
  });

  it.skipIf(postgresSkipReason !== null)(`on PostgreSQL${postgresSkipReason === null ? '' : ` (skipped: ${postgresSkipReason})`}`, async () => {
    const server = await testPostgres();
    try {
      await fc.assert(fc.asyncProperty(oldChunks, async (chunks) => {
        const db = await testDatabase(server);
        try {
          for (const step of migrationSteps.slice(0, schemaBefore)) await sql(db.url, step.postgres);
          await sql(db.url, `CREATE TABLE ${versionTable} (version INTEGER NOT NULL)`);
          await sql(db.url, `INSERT INTO ${versionTable} (version) VALUES (${schemaBefore})`);
          for (const c of chunks) await sql(db.url, 'INSERT INTO issued_bits (serial, chunk, bits) VALUES ($1, $2, $3)', [c.serial, c.chunk, Buffer.from(c.bits)]);
          for (const s of sessions) {
            await sql(db.url, 'INSERT INTO sessions (token_hash, "user", serial, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)', [Buffer.from(s.tokenHash), s.user, s.serial, s.createdMs, s.expiresMs]);
          }
          await expectAllKept(() => openPgStore(db.url, { create: false }), chunks);
          expect(await sql(db.url, "SELECT indexname FROM pg_indexes WHERE indexname IN ('challenges_expiry', 'issued_bits_pkey')")).toEqual([{ indexname: 'issued_bits_pkey' }]);
        } finally {
          await db.drop();
        }
      }), propertyParams(5));
    } finally {
      server.stop();
    }
  });
});
