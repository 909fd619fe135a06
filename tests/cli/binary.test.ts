// The real `dsc` binary, for what only a process shows: start-up from the sources and from the bundle that
// `npm install` builds, native modules (better-sqlite3) loading, stdin, exit codes, several processes
// sharing a device file and a database. Everything else runs in-process (tests/support/cli.ts).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runDsc, type CliResult } from '../support/cli.ts';
import { scratchFolder } from '../support/temp.ts';
import { ocraVectors } from '../support/vectors.ts';

const dir = scratchFolder('dsc-binary-');

/** provision → enroll → challenge → respond → verify, each step its own `dsc` process, as in the README. */
function loginCycle(run: (args: string[]) => CliResult, card: string, db: string): void {
  const user = `user-${Math.random().toString(36).slice(2, 8)}`;
  expect(run(['provision', '--pin', '1357', '--out', card])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^\d{8}\n$/) });
  expect(run(['host', 'enroll', '--db', db, '--user', user, '--device', card]).status).toBe(0);
  const challenge = run(['host', 'challenge', '--db', db, '--user', user]);
  expect(challenge).toMatchObject({ status: 0, stdout: expect.stringMatching(/^\d{6}\n$/) });
  const response = run(['respond', '--device', card, '--pin', '1357', '--challenge', challenge.stdout.trim()]);
  expect(response).toMatchObject({ status: 0, stdout: expect.stringMatching(/^\d{8}\n$/), stderr: '' });
  const verify = ['host', 'verify', '--db', db, '--user', user, '--challenge', challenge.stdout.trim(), '--response', response.stdout.trim()];
  // A login answers with the session token alone on stdout (for a script to capture), the verdict on stderr.
  expect(run(verify)).toMatchObject({ status: 0, stdout: expect.stringMatching(/^[0-9a-f]{64}\n$/), stderr: expect.stringMatching(/^ok: logged in with \d{8}/) });
  expect(run(verify)).toMatchObject({ status: 1, stdout: expect.stringMatching(/already used/) });
}

describe('dsc from the TypeScript sources', () => {
  it('logs in across processes: provision → respond → host verify, then refuses the same response', () => {
    loginCycle((args) => runDsc(args, { cwd: dir }), join(dir, 'card.json'), join(dir, 'host.sqlite'));
  });

  it('answers every Appendix C vector through `dsc ocra --batch` on stdin, in order', () => {
    const requests = ocraVectors.map((v) => JSON.stringify({ suite: v.suite, key: v.key, challenge: v.challenge, counter: v.counter, pin: v.pin, timeStep: v.timeStep }));
    const result = runDsc(['ocra', '--batch'], { input: `${requests.join('\n')}\n` });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { response?: string }).response)).toEqual(ocraVectors.map((v) => v.response));
  });
});

describe('the bundle `npm install` builds (scripts/build.js)', () => {
  // Built inside the package, so the bundle's bare imports (ink, better-sqlite3) resolve as in dist/.
  const out = mkdtempSync(join(repoRoot, 'node_modules', '.dsc-bundle-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const built = spawnSync(process.execPath, [join(repoRoot, 'scripts/build.js'), '--outdir', out], { encoding: 'utf8' });
  const entry = pathToFileURL(join(out, 'main.js')).href;
  const runner = `const { main } = await import(${JSON.stringify(entry)}); process.exitCode = await main(process.argv.slice(1));`;
  const runBundle = (args: string[], cwd = dir): CliResult => {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', runner, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const freshness = () => spawnSync(process.execPath, ['--input-type=module', '-e',
    `const { freshBundleEntry } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'bin/bundle-state.js')).href)}); console.log(freshBundleEntry(${JSON.stringify(out)}) ?? 'stale');`], { encoding: 'utf8' }).stdout.trim();

  it('builds, lists its sources in a manifest, and keeps npm packages (native modules) outside the bundle', () => {
    expect(built.status, built.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { sources: { path: string }[] };
    const sources = manifest.sources.map((s) => s.path.replace(/^(\.\.\/)+/, ''));
    expect(sources).toEqual(expect.arrayContaining(['cli/main.ts', 'firmware/machine.ts', 'host/index.ts']));
    expect(sources.some((s) => s.includes('node_modules'))).toBe(false);
  });

  it('runs the login cycle with better-sqlite3 loaded from node_modules', () => {
    loginCycle((args) => runBundle(args), join(dir, 'bundle-card.json'), join(dir, 'bundle-host.sqlite'));
  });

  it('is fresh while its sources are unchanged, and stale when one changes or is missing', () => {
    expect(freshness()).toBe(join(out, 'main.js'));
    const manifestPath = join(out, 'manifest.json');
    const manifest = readFileSync(manifestPath, 'utf8');
    const edited = JSON.parse(manifest) as { sources: { mtimeMs: number; path: string }[] };
    edited.sources[0]!.mtimeMs += 1;
    writeFileSync(manifestPath, JSON.stringify(edited));
    expect(freshness()).toBe('stale');
    edited.sources[0]!.mtimeMs -= 1;
    edited.sources[1]!.path = '../no-such-source.ts';
    writeFileSync(manifestPath, JSON.stringify(edited));
    expect(freshness()).toBe('stale');
    writeFileSync(manifestPath, manifest);
    expect(freshness()).toBe(join(out, 'main.js'));
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  if (!hasScript && process.env.CI !== 'true') console.warn('skipped: the bundle drawing the emulator needs util-linux `script` (a pseudo-terminal)');
  it.skipIf(!hasScript && process.env.CI !== 'true')('draws the emulator in a pseudo-terminal, the screen table found from the bundle (`?` help)', async () => {
    const home = join(dir, 'bundle-home');
    const command = `stty cols 120 rows 40; exec ${process.execPath} --input-type=module -e '${runner}' emulate`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: dir, env: { ...process.env, DSC_HOME: home, CI: '' }, stdio: ['pipe', 'pipe', 'inherit'] });
    let screen = '';
    child.stdout.setEncoding('utf8');
    const shown = (text: string) => new Promise<void>((done, fail) => {
      const guard = setTimeout(() => fail(new Error(`never showed ${JSON.stringify(text)}; last output: ${JSON.stringify(screen.slice(-600))}`)), 30_000);
      const look = () => {
        if (!screen.includes(text)) return;
        clearTimeout(guard);
        child.stdout.off('data', look);
        done();
      };
      child.stdout.on('data', (chunk: string) => { screen += chunk; look(); });
      look();
    });
    await shown('display:');
    child.stdin.write('?');
    await shown('CHALLNG>'); // a row of the screen table, read from fixtures/screens.json through the bundle
    child.stdin.write('q');
    expect(await new Promise((done) => child.on('exit', done))).toBe(0);
  });
});
