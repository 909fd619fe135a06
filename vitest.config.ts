import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Test files that start real processes, pseudo-terminals or terminals (the real `dsc` binary, socat, tmux,
 * racing processes, a PostgreSQL server of their own). `npm run test:unit` leaves them out for everyday work;
 * `npm test` runs everything.
 */
const integration = [
  'tests/board/*.test.ts',
  'tests/cli/binary.test.ts',
  'tests/emulator/e2e-tmux.test.ts',
  'tests/host/concurrency.test.ts',
  'tests/host/pg-store.test.ts',
  'tests/serial/bridge.test.ts',
  'tests/serial/conformance-*.test.ts',
  'tests/serial/*-pty.test.ts',
  'tests/serial/ports.test.ts',
  'tests/serial/serial-board.test.ts',
  'tests/service/serve.test.ts',
  'tests/service/browser.test.ts',
  'tests/service/readme-client.test.ts',
  'tests/service/postgres-cluster.test.ts',
  'tests/service/multi-instance.test.ts',
  'tests/service/readme-postgres.test.ts',
];

export default defineConfig({
  test: {
    // Integration tests spawn the real CLI and real pseudo-terminals; give them room on a loaded 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Vitest's default is one worker fewer than the cores: one worker on a 2-core machine, so files ran one
    // after another. Files are independent (each has its own scratch folder, database and ports), and the
    // spawning ones spend much of their time waiting on child processes, pseudo-terminals and timers, so every
    // core gets a worker and one more fills the cores while the others wait (docs/bench.md, "npm test").
    maxWorkers: Math.max(2, availableParallelism()) + 1,
    // A `dsc` a test starts runs the TypeScript sources, never the bundle in dist/ (see tests/support/cli.ts).
    env: { DSC_FROM_SOURCES: '1' },
    projects: [
      // Each project names its own files: `extends` would add a root `include` to the integration list.
      // Unit files run in worker threads: a thread per file costs less to start than a process per file (the
      // default, kept for integration files, which catch signals the way the commands they run in-process do).
      { extends: true, test: { name: 'unit', include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'], exclude: integration, pool: 'threads' } },
      { extends: true, test: { name: 'integration', include: integration } },
    ],
  },
});
