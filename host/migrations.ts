/**
 * The schema, as an ordered list of migrations. `PRAGMA user_version` records how many have run; opening a
 * database applies the missing ones in one transaction, and refuses a database newer than this code.
 * Never edit a released migration: append a new one.
 */
export const migrations: readonly string[] = [
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
];

export const schemaVersion = migrations.length;

/**
 * The page size a NEW database is created with (bytes), applied before its first table. A durable commit
 * writes every page it touched to the WAL and fsyncs it: a login touches two or three pages (the challenge
 * row, its index entry, the audit row), so small pages mean a few KiB per fsync instead of 12 KiB, and
 * checkpoints copy less. Measured on the bench's disk: 1,024 beat 4,096 (more bytes per fsync) and 512
 * (deeper trees, more pages per commit). A database created with another page size keeps it: SQLite cannot
 * change the page size of a WAL database, and nothing here depends on it.
 */
export const newDatabasePageSizeBytes = 1_024;
