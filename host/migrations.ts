/**
 * The schema, as an ordered list of migrations, each in both dialects: SQLite (`PRAGMA user_version` records how
 * many have run) and PostgreSQL (the `dsc_schema` table records it, host/pg-schema.ts). Opening a database
 * applies the missing ones in one transaction, and refuses a database newer than this code.
 * Never edit a released migration: append a new one, in both dialects (the type makes both required).
 */
export interface Migration {
  readonly sqlite: string;
  readonly postgres: string;
}

/** The SQLite dialect of each migration. */
const sqliteMigrations = [
  // 1: devices, their users, challenges, audit, withdrawals, temporary codes.
  `
  CREATE TABLE devices (
    serial TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    profile TEXT NOT NULL,
    kind TEXT NOT NULL,
    suite TEXT NOT NULL,
    check_digit INTEGER NOT NULL,
    sealed_secret BLOB NOT NULL,
    sealed_pin BLOB,
    key_version INTEGER NOT NULL DEFAULT 1,
    counter INTEGER NOT NULL DEFAULT 0,
    last_time_step INTEGER NOT NULL DEFAULT -1,
    failures INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0,
    not_before_ms INTEGER NOT NULL DEFAULT 0,
    expires_ms INTEGER,
    enrolled_ms INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE assignments (
    user TEXT NOT NULL,
    serial TEXT NOT NULL REFERENCES devices(serial),
    active INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (user, serial)
  ) STRICT;
  CREATE INDEX assignments_serial ON assignments(serial);
  CREATE TABLE challenges (
    id INTEGER PRIMARY KEY,
    serial TEXT NOT NULL REFERENCES devices(serial),
    user TEXT NOT NULL,
    challenge TEXT NOT NULL,
    purpose TEXT NOT NULL,
    sealed_payload BLOB,
    amount_usd INTEGER,
    issued_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'open',
    -- One index serves both lookups: "was this challenge ever issued to this device" (both columns) and
    -- "which challenge is the user answering" (the challenge, then a few rows filtered by user). Fewer
    -- indexes, fewer pages per commit: durable commits are what the disk limits.
    UNIQUE (challenge, serial)
  ) STRICT;
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    user TEXT,
    serial TEXT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT
  ) STRICT;
  -- No index on audit: it is appended on every decision and read rarely, newest first (a backwards scan).
  CREATE TABLE withdrawals (
    id INTEGER PRIMARY KEY,
    user TEXT NOT NULL,
    serial TEXT NOT NULL,
    amount_usd INTEGER NOT NULL,
    at_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX withdrawals_user ON withdrawals(user, at_ms);
  CREATE TABLE temp_codes (
    user TEXT PRIMARY KEY,
    code_mac BLOB NOT NULL,
    issued_ms INTEGER NOT NULL,
    full_until_ms INTEGER NOT NULL,
    print_until_ms INTEGER NOT NULL,
    blocks_next INTEGER NOT NULL
  ) STRICT;
  `,
  // 2: the first factor and what guards it: accounts (password hash, the account's failure count and lock),
  // sessions (token hashes), rate-limit windows, the per-device bitmap of challenges ever issued (so challenge
  // rows can be pruned), and the host key's check value.
  `
  CREATE TABLE accounts (
    user TEXT PRIMARY KEY,
    password_hash TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0,
    not_before_ms INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user TEXT NOT NULL,
    serial TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX sessions_user ON sessions(user, expires_ms);
  CREATE TABLE rate_windows (
    key TEXT PRIMARY KEY,
    window_start_ms INTEGER NOT NULL,
    count INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE issued_bits (
    serial TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    bits BLOB NOT NULL,
    PRIMARY KEY (serial, chunk)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX challenges_expiry ON challenges(expires_ms);
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
  ) STRICT;
  `,
  // 3: fewer pages written per login (each is a WAL frame at every commit, and a page a checkpoint copies back).
  // The issued-challenge bitmap moves from 512-byte chunks, which overflow a 1 KiB page of a WITHOUT ROWID table
  // (a leaf and an overflow page per issue), to 128-byte chunks that fit one: every bit is kept, each old chunk
  // split into four, the all-zero quarters left out (a missing chunk reads as all clear). Sessions become a
  // WITHOUT ROWID table keyed by the token hash (one b-tree instead of a table and its key index). The expiry
  // index of challenges goes: pruning now looks at the oldest rows by id, which are the first to expire.
  `
  CREATE TABLE issued_bits_128 (
    serial TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    bits BLOB NOT NULL,
    PRIMARY KEY (serial, chunk)
  ) STRICT, WITHOUT ROWID;
  INSERT INTO issued_bits_128 (serial, chunk, bits)
    SELECT serial, chunk * 4 + part, piece FROM (
      SELECT b.serial AS serial, b.chunk AS chunk, p.part AS part, substr(b.bits, p.part * 128 + 1, 128) AS piece
      FROM issued_bits b CROSS JOIN (SELECT 0 AS part UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) p
    ) WHERE length(piece) > 0 AND piece != zeroblob(length(piece));
  DROP TABLE issued_bits;
  ALTER TABLE issued_bits_128 RENAME TO issued_bits;
  CREATE TABLE sessions_by_token (
    token_hash BLOB PRIMARY KEY,
    user TEXT NOT NULL,
    serial TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  INSERT INTO sessions_by_token (token_hash, user, serial, created_ms, expires_ms)
    SELECT token_hash, user, serial, created_ms, expires_ms FROM sessions;
  DROP TABLE sessions;
  ALTER TABLE sessions_by_token RENAME TO sessions;
  CREATE INDEX sessions_user ON sessions(user, expires_ms);
  DROP INDEX challenges_expiry;
  `,
] as const;

// PostgreSQL has no STRICT tables and no 0/1 booleans: BOOLEAN, BYTEA for bytes, BIGINT for every millisecond
// time and counter (the store parses them back to numbers), identity columns for the ids. `user` is a reserved
// word there, so the column is always written quoted. Sort orders use COLLATE "C" where the store promises
// SQLite's byte order.
const postgresMigrations = [
  // 1
  `
  CREATE TABLE devices (
    serial TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    profile TEXT NOT NULL,
    kind TEXT NOT NULL,
    suite TEXT NOT NULL,
    check_digit BOOLEAN NOT NULL,
    sealed_secret BYTEA NOT NULL,
    sealed_pin BYTEA,
    key_version INTEGER NOT NULL DEFAULT 1,
    counter BIGINT NOT NULL DEFAULT 0,
    last_time_step BIGINT NOT NULL DEFAULT -1,
    failures INTEGER NOT NULL DEFAULT 0,
    locked BOOLEAN NOT NULL DEFAULT false,
    not_before_ms BIGINT NOT NULL DEFAULT 0,
    expires_ms BIGINT,
    enrolled_ms BIGINT NOT NULL
  );
  CREATE TABLE assignments (
    "user" TEXT NOT NULL,
    serial TEXT NOT NULL REFERENCES devices(serial),
    active BOOLEAN NOT NULL DEFAULT true,
    PRIMARY KEY ("user", serial)
  );
  CREATE INDEX assignments_serial ON assignments(serial);
  CREATE TABLE challenges (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial TEXT NOT NULL REFERENCES devices(serial),
    "user" TEXT NOT NULL,
    challenge TEXT NOT NULL,
    purpose TEXT NOT NULL,
    sealed_payload BYTEA,
    amount_usd BIGINT,
    issued_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'open',
    UNIQUE (challenge, serial)
  );
  CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    "user" TEXT,
    serial TEXT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT
  );
  CREATE TABLE withdrawals (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "user" TEXT NOT NULL,
    serial TEXT NOT NULL,
    amount_usd BIGINT NOT NULL,
    at_ms BIGINT NOT NULL
  );
  CREATE INDEX withdrawals_user ON withdrawals("user", at_ms);
  CREATE TABLE temp_codes (
    "user" TEXT PRIMARY KEY,
    code_mac BYTEA NOT NULL,
    issued_ms BIGINT NOT NULL,
    full_until_ms BIGINT NOT NULL,
    print_until_ms BIGINT NOT NULL,
    blocks_next BOOLEAN NOT NULL
  );
  `,
  // 2
  `
  CREATE TABLE accounts (
    "user" TEXT PRIMARY KEY,
    password_hash TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    locked BOOLEAN NOT NULL DEFAULT false,
    not_before_ms BIGINT NOT NULL DEFAULT 0
  );
  CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    "user" TEXT NOT NULL,
    serial TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
  );
  CREATE INDEX sessions_user ON sessions("user", expires_ms);
  CREATE TABLE rate_windows (
    key TEXT PRIMARY KEY,
    window_start_ms BIGINT NOT NULL,
    count INTEGER NOT NULL
  );
  CREATE TABLE issued_bits (
    serial TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    bits BYTEA NOT NULL,
    PRIMARY KEY (serial, chunk)
  );
  CREATE INDEX challenges_expiry ON challenges(expires_ms);
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BYTEA NOT NULL
  );
  `,
  // 3 (PostgreSQL keeps its sessions table: a heap and its key index either way)
  `
  CREATE TABLE issued_bits_128 (
    serial TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    bits BYTEA NOT NULL,
    PRIMARY KEY (serial, chunk)
  );
  INSERT INTO issued_bits_128 (serial, chunk, bits)
    SELECT serial, chunk * 4 + part, piece FROM (
      SELECT b.serial, b.chunk, p.part, substring(b.bits FROM p.part * 128 + 1 FOR 128) AS piece
      FROM issued_bits b CROSS JOIN generate_series(0, 3) AS p(part)
    ) quarters WHERE length(piece) > 0 AND piece <> decode(repeat('00', length(piece)), 'hex');
  DROP TABLE issued_bits;
  ALTER TABLE issued_bits_128 RENAME TO issued_bits;
  ALTER INDEX issued_bits_128_pkey RENAME TO issued_bits_pkey;
  DROP INDEX challenges_expiry;
  `,
] as const;

// A migration added in one dialect only fails the type check here: both lists are tuples of known length.
type SameLength<A extends readonly unknown[], B extends readonly unknown[]> = [A['length'], B['length']] extends [B['length'], A['length']] ? true : never;
const dialectsAgree: SameLength<typeof sqliteMigrations, typeof postgresMigrations> = true;
void dialectsAgree;

export const migrationSteps: readonly Migration[] = sqliteMigrations.map((sqlite, i) => ({ sqlite, postgres: postgresMigrations[i]! }));

/** The SQLite dialect, in order (what host/sqlite-store.ts applies). */
export const migrations: readonly string[] = migrationSteps.map((m) => m.sqlite);

export const schemaVersion = migrationSteps.length;

/**
 * The page size a NEW database is created with (bytes), applied before its first table. A durable commit
 * writes every page it touched to the WAL and fsyncs it: a login touches two or three pages (the challenge
 * row, its index entry, the audit row), so small pages mean a few KiB per fsync instead of 12 KiB, and
 * checkpoints copy less. Measured on the bench's disk: 1,024 beat 4,096 (more bytes per fsync) and 512
 * (deeper trees, more pages per commit). A database created with another page size keeps it: SQLite cannot
 * change the page size of a WAL database, and nothing here depends on it.
 */
export const newDatabasePageSizeBytes = 1_024;
