/** @jsxRuntime automatic @jsxImportSource react */
/**
 * A real card (firmware + runtime) on the virtual clock, a real host on an in-memory SQLite database,
 * and the emulator's App rendered with ink-testing-library: everything but the terminal is real.
 */
import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { newDeviceRecord, openCardFromRecord, type CardSession } from '../../../emulator/card.ts';
import { App } from '../../../emulator/ui/App.tsx';
import { KeyDriver, VirtualScheduler } from '../../../emulator/ui/key-driver.ts';
import { LoginModel } from '../../../emulator/ui/login-model.ts';
import { helpScreens } from '../../../emulator/ui/screen-table.ts';
import { openHost, type LoginHost } from '../../../host/index.ts';
import type { Key, Profile } from '../../../firmware/types.ts';
import type { DeviceRecord } from '../../../firmware/device-record.ts';

/** PINs chosen at ordering for the test cards (not weak, so digipass accepts them as they are). */
export const testPins: Readonly<Record<Profile, string>> = { dscplus: '4826', digipass: '2580' };
export const startMs = Date.UTC(2026, 0, 1);

export interface Rig {
  readonly record: DeviceRecord;
  readonly session: CardSession;
  readonly scheduler: VirtualScheduler;
  readonly driver: KeyDriver;
  readonly host: LoginHost;
  readonly login: LoginModel;
  readonly app: ReturnType<typeof render>;
  readonly screenText: () => string;
  close(): void;
}

/** Alice's password (digits: the page's keys type digits). */
export const testPassword = '2468013579';

/** The first factor on the page: the password, then Enter; a login challenge appears. */
export async function enterPassword(login: LoginModel): Promise<void> {
  for (const digit of testPassword) login.typeDigit(digit);
  await login.submit();
}

export async function makeRig(profile: Profile, columns = 120, rows = 40): Promise<Rig> {
  const record = newDeviceRecord({ profile, pin: testPins[profile], clockMs: startMs });
  const session = openCardFromRecord(record, { clock: 'virtual', startMs });
  const scheduler = new VirtualScheduler(session);
  const listeners = new Set<(key: Key | undefined) => void>();
  const driver = new KeyDriver(session, scheduler, { onPressed: (key) => listeners.forEach((listener) => listener(key)) });
  const host = await openHost({ dbPath: ':memory:', now: () => session.nowMs, passwordCost: { N: 16, r: 8, p: 1 } });
  await host.enroll({ user: 'alice', record });
  await host.setPassword({ user: 'alice', password: testPassword });
  const login = new LoginModel(host, 'alice');
  await login.start();
  await enterPassword(login);
  const tree = (
    <App
      card={session}
      driver={driver}
      login={login}
      screens={helpScreens()}
      columns={columns}
      rows={rows}
      demoPin={() => testPins[profile]}
      onPressed={(listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      }}
    />
  );
  const app = renderAt(tree, columns);
  await settle();
  return {
    record,
    session,
    scheduler,
    driver,
    host,
    login,
    app,
    screenText: () => app.lastFrame() ?? '',
    close() {
      app.unmount();
      driver.close();
      session.close();
      void host.close();
    },
  };
}

/**
 * ink-testing-library's terminal is 100 columns wide; give it the width under test, then render
 * again so Ink lays the tree out at that width (Ink reads `stdout.columns` at every layout).
 */
export function renderAt(tree: ReactElement, columns: number): ReturnType<typeof render> {
  const app = render(tree);
  Object.defineProperty(app.stdout, 'columns', { get: () => columns });
  app.rerender(tree);
  return app;
}

/** Let React and Ink finish the renders queued by the last input (no time passes on any clock). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((done) => setImmediate(done));
}

/** Type into the app as a terminal would, then let it render. */
export async function type(rig: Rig, text: string): Promise<void> {
  rig.app.stdin.write(text);
  await settle();
}

/** Let virtual time pass (key releases, holds, auto power-off), then let it render. */
export async function pass(rig: Rig, ms: number): Promise<void> {
  rig.scheduler.advance(ms);
  await settle();
}
