// Started through npx or npm run, `dsc` runs under `npm exec` and a `sh -c`, so `kill $!` in a shell
// stops npm and not this process, which then kept the port and the device file. When npm launched
// us, watch npm (the nearest ancestor that is not a shell) and stop as a SIGTERM would stop us once
// it is gone: the card is saved once, and the port and the file are freed. Linux (/proc) only.
import { readFileSync } from 'node:fs';

/** How often the launcher is looked at, in milliseconds. */
const launcherPollMs = 250;
const shells = new Set(['sh', 'dash', 'bash', 'zsh']);

function statOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { name, ppid: Number(fields[1]), started: fields[19] };
  } catch {
    return undefined;
  }
}

export function watchLauncher() {
  if (process.env.npm_command === undefined) return; // not started by npm: a signal reaches us directly
  let pid = process.ppid;
  let stat = statOf(pid);
  while (stat !== undefined && shells.has(stat.name) && stat.ppid > 1) {
    pid = stat.ppid;
    stat = statOf(pid);
  }
  if (stat === undefined) return;
  const started = stat.started;
  const timer = setInterval(() => {
    if (statOf(pid)?.started === started) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, launcherPollMs);
  timer.unref();
}
