/**
 * The conformance harness: the link, the driver and the screen table of one run, the results as they
 * are reported, the display expectations (every one read from the screen table), and the errors we
 * provoke on purpose so that they are not held against the card.
 */
import type { LinkEvent } from '../emulator/serial/link.ts';
import type { ErrorCode } from '../emulator/serial/messages.ts';
import { replyTimeoutMs, withTimeout, type PanelLink } from '../emulator/serial/panel-link.ts';
import { loadScreenTable, patternRegExp, screenRow, shows, type ScreenTable } from '../platform/screen-table.ts';
import { ConformanceError, Driver } from './driver.ts';
import type { Target } from './target.ts';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

export interface ConformanceOptions {
  /** Random challenges answered and verified. */
  readonly responses: number;
  /** Also run the transitions that block a digipass card for good. */
  readonly destructive: boolean;
  /** Called with each result as soon as it is known (the CLI prints as it goes). */
  readonly onResult?: (result: CheckResult) => void;
  /** The short set a person can run on a real clock in under 2 minutes (dsc conformance --quick). */
  readonly quick?: boolean;
  /** Stops the run between two checks, and every real-time wait at once (Ctrl-C, a port that closed). */
  readonly signal?: AbortSignal;
  /**
   * Asked when a check fails: false when the link itself is gone (the port closed), so that the
   * failure is the cable's and not held against the card. Calling it may abort `signal`.
   */
  readonly linkUp?: () => boolean;
}

/** The run was stopped from outside (the signal's reason says why); the check under way is not judged. */
export class ConformanceStopped extends Error {
  override name = 'ConformanceStopped';
}

/**
 * @example
 * const c = new Conformance(panel, target, { responses: 5, destructive: false });
 * await c.check('handshake', async () => 'ok');
 */
export class Conformance {
  readonly results: CheckResult[] = [];
  readonly driver: Driver;
  readonly table: ScreenTable;
  readonly events: LinkEvent[] = [];
  /** The card was blocked on purpose (--destructive); it cannot be restored. */
  blocked = false;
  /** Errors we provoked on purpose, by code: they are not held against the card. */
  readonly provoked = new Map<ErrorCode, number>();

  constructor(
    readonly panel: PanelLink,
    readonly target: Target,
    readonly options: ConformanceOptions,
  ) {
    this.driver = new Driver(panel, options.signal);
    this.table = loadScreenTable();
    panel.onEvent((event) => this.events.push(event));
  }

  get hold(): number {
    return this.table.display.powerHoldMs;
  }

  report(name: string, status: CheckStatus, detail: string): void {
    const result = { name, status, detail };
    this.results.push(result);
    this.options.onResult?.(result);
  }

  async check(name: string, body: () => Promise<string>): Promise<boolean> {
    const stopped = () => new ConformanceStopped(`stopped before "${name}" finished: ${String(this.options.signal?.reason)}`);
    if (this.options.signal?.aborted) throw stopped();
    try {
      const detail = await body();
      if (this.options.signal?.aborted) throw stopped();
      this.report(name, 'pass', detail);
      return true;
    } catch (error) {
      // A check cut short from outside is neither passed nor failed: the card was not judged.
      if (error instanceof ConformanceStopped) throw error;
      if (this.options.signal?.aborted || this.options.linkUp?.() === false) throw stopped();
      this.report(name, 'fail', (error as Error).message);
      return false;
    }
  }

  /**
   * The display must show screen `id` of the table; with `exact`, exactly that text (a prompt with
   * so many digits typed, a FAIL count), which must itself be a text of that screen.
   */
  expectScreen(id: string, what: string, exact?: string): string {
    const text = this.driver.text;
    if (exact !== undefined && !shows(this.table, id, exact)) throw new TypeError(`${JSON.stringify(exact)} is not a text of screen ${id} (${screenRow(this.table, id).pattern})`);
    const ok = exact === undefined ? shows(this.table, id, text) : text === exact;
    if (!ok) throw new ConformanceError(`${what}: expected ${exact === undefined ? patternRegExp(this.table, id) : JSON.stringify(exact)}, the display shows ${JSON.stringify(text)}`);
    return text;
  }

  /** The screen's fixed text, its example in the table (`CHALLNG>`, `NEW PIN`, `LOCK PIN`). */
  prompt(id: string): string {
    return screenRow(this.table, id).example;
  }

  /** The display must show exactly the fixed text of screen `id`. */
  expectPrompt(id: string, what: string): string {
    return this.expectScreen(id, what, this.prompt(id));
  }

  /** Does `text` show screen `id` of the table? */
  screenShows(id: string, text: string): boolean {
    return shows(this.table, id, text);
  }

  /** Does the display show exactly the fixed text of screen `id`? */
  showsPrompt(id: string): boolean {
    return this.driver.text === this.prompt(id);
  }

  async waitForPeerError(code: ErrorCode): Promise<void> {
    this.provoked.set(code, (this.provoked.get(code) ?? 0) + 1);
    const seen = this.events.length;
    await withTimeout(
      new Promise<void>((resolve) => {
        const poll = () => {
          if (this.events.slice(seen).some((event) => event.type === 'peerError' && event.code === code)) {
            unsubscribe();
            resolve();
          }
        };
        const unsubscribe = this.panel.onEvent(poll);
        poll();
      }),
      replyTimeoutMs,
      `the card did not answer with ER ${code}`,
    );
  }
}
