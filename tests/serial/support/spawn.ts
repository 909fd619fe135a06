/** Run the real `dsc` binary as a long-lived process (a bridge, a serial card) and stop it by its own pid. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dscPath } from '../../support/cli.ts';

/** A failure guard for process start-up on a loaded 2-core machine (tsx compiles on first run). */
export const startTimeoutMs = 20_000;

export interface Running {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves when stderr (or stdout) has matched `pattern`. */
  waitFor(pattern: RegExp, stream?: 'stderr' | 'stdout', timeoutMs?: number): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** The exit code once the process ends by itself. */
  exited(): Promise<number | null>;
}

export function startDsc(args: string[]): Running {
  const child = spawn(process.execPath, [dscPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running: Running = {
    child,
    stdout: '',
    stderr: '',
    waitFor(pattern, stream = 'stderr', timeoutMs = startTimeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(running[stream])) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`dsc ${args[0]} did not print ${pattern} within ${timeoutMs} ms; stderr: ${running.stderr}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`dsc ${args[0]} exited before printing ${pattern}; stderr: ${running.stderr}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.stderr!.off('data', check);
          child.off('exit', onExit);
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exit;
    },
    exited: () => exit,
  };
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (running.stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (running.stderr += text));
  return running;
}
