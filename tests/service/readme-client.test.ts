/**
 * The README's Python client, exactly as printed there, against a real server: it logs in with the password
 * and the card's answer, and a wrong answer ends it with the problem's reason. Without /usr/bin/python3 the
 * test is skipped with a printed reason, except under CI=true, where it fails.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.ts';
import { password, startTestService, type TestService } from './support/service.ts';

const python = '/usr/bin/python3';
const skipReason = existsSync(python) || process.env.CI === 'true' ? null : `${python} is not installed: skipping the README's Python client`;
if (skipReason) console.warn(`tests/service: ${skipReason}`);

/** The README's ```python block in the "Run the verifier for your own login server" section. */
function readmeClient(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Run the verifier for your own login server'));
  const code = /```python\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error('README: no python block in the service section');
  return code;
}

/** Run the client with no terminal (getpass then reads stdin), answering its prompts as they come. */
function runClient(url: string, answer: (challenge: string) => string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-c', readmeClient()], { env: { ...process.env, DSC_URL: url }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let answered = false;
    child.stdin.write(`alice\n${password}\n`);
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      const challenge = /the challenge (\d+)/.exec(stdout)?.[1];
      if (challenge && !answered) {
        answered = true;
        child.stdin.end(`${answer(challenge)}\n`);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(skipReason !== null)("the README's Python client", () => {
  let s: TestService;
  beforeAll(async () => {
    s = await startTestService();
    await s.enrol('alice', 43000001);
  });
  afterAll(() => s.close());

  it('logs in with the password and the card\'s answer', async () => {
    const run = await runClient(s.url, (challenge) => s.answer('43000001', challenge));
    expect(run.stdout).toContain('on card 43000001');
    expect(run.stdout).toMatch(/logged in; session token [0-9a-f]{8}…/);
    expect(run.code, run.stderr).toBe(0);
  });

  it('ends with the problem document\'s reason on a wrong answer', async () => {
    const run = await runClient(s.url, (challenge) => String((Number(s.answer('43000001', challenge)) + 1) % 1e8).padStart(8, '0'));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('refused: wrong response');
  });
});
