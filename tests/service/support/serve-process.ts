/** `dsc host serve` as a real child process: started, its address read from its first line, stopped by signal. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dscPath } from '../../support/cli.ts';

/** How long the service may take to print its address (tsx compiles the sources on first start). */
const startTimeoutMs = 30_000;

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly firstLine: string;
  output(): string;
  /** Send `signal` and resolve with the exit code and everything printed. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export async function startServe(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<ServeProcess> {
  const child = spawn(process.execPath, [dscPath, 'host', 'serve', '--listen', '127.0.0.1:0', ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const firstLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dsc host serve printed no address within ${startTimeoutMs} ms: ${stdout}${stderr}`)), startTimeoutMs);
    const poll = setInterval(() => {
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(line);
      }
    }, 20);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`dsc host serve exited with ${code}: ${stdout}${stderr}`));
    });
  });
  const url = /listening on (http:\/\/\S+?)\/? /.exec(firstLine)?.[1];
  if (!url) throw new Error(`no address in ${JSON.stringify(firstLine)}`);
  return {
    child, url, firstLine,
    output: () => stdout + stderr,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const { code, signal: by } = await exited;
      return { code, signal: by, stdout, stderr };
    },
  };
}
