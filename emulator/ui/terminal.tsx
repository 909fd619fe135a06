/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The emulator on a real terminal: the alternate screen, Ink rendering the App at the terminal's
 * size (redrawn cleanly on resize), until the user quits or a signal ends it. Loaded by
 * `cli/emulate.ts` only after it checked that stdin and stdout are a terminal.
 */
import { render, useStdout } from 'ink';
import { useEffect, useState } from 'react';
import { App, type AppProps } from './App.tsx';
import { minColumns, minRows } from './layout.ts';

/** The alternate screen keeps the user's scrollback intact and is left on exit, restoring the terminal. */
const enterAlternateScreen = '\u001B[?1049h\u001B[H';
const leaveAlternateScreen = '\u001B[?1049l';
const clearScreen = '\u001B[2J\u001B[H';

/** Follows the terminal's size, so the layout adapts when the window is resized. */
function Sized(props: Omit<AppProps, 'columns' | 'rows'>) {
  const { stdout } = useStdout();
  // A pseudo-terminal whose size was never set reports 0×0: draw for the smallest supported size.
  const measure = () => ({ columns: stdout.columns || minColumns, rows: stdout.rows || minRows });
  const [size, setSize] = useState(measure);
  const [blank, setBlank] = useState(false);
  useEffect(() => {
    // The terminal re-wraps the old, wider lines on a resize, and Ink erases only as many lines as it
    // drew: clear the whole (alternate) screen, draw nothing once, then the new layout from the top.
    const onResize = () => {
      stdout.write(clearScreen);
      setBlank(true);
      setSize(measure());
      setImmediate(() => setBlank(false));
    };
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  if (blank) return null;
  return <App {...props} columns={size.columns} rows={size.rows} />;
}

/**
 * Draw the emulator until the user quits (q, Ctrl+C) or SIGTERM/SIGHUP; the terminal is given back
 * as it was however it ends: main screen, cooked mode, stdin released.
 * @example
 * await showEmulator({ card: session, driver, login, screens, onPressed }, process.stdout, process.stdin);
 */
export async function showEmulator(props: Omit<AppProps, 'columns' | 'rows'>, stdout: NodeJS.WriteStream, stdin: NodeJS.ReadStream): Promise<void> {
  let instance: ReturnType<typeof render> | undefined;
  const quit = () => instance?.unmount();
  process.once('SIGTERM', quit);
  process.once('SIGHUP', quit);
  stdout.write(enterAlternateScreen);
  try {
    instance = render(<Sized {...props} />, { stdout, stdin, exitOnCtrlC: false, patchConsole: false });
    await instance.waitUntilExit();
  } finally {
    process.off('SIGTERM', quit);
    process.off('SIGHUP', quit);
    instance?.unmount();
    stdout.write(leaveAlternateScreen);
    if (stdin.isTTY) stdin.setRawMode(false);
    // A paused, unreferenced stdin lets the process end once the command returns.
    stdin.pause();
    stdin.unref?.();
  }
}
