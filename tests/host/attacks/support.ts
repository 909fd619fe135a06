/** The attack tests' setting: the real SQLite store in a fresh file, default limits, a virtual clock. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceRecord } from '../../../firmware/device-record.ts';
import type { LoginHost } from '../../../host/index.ts';
import { testHost, type Clock } from '../support/clock.ts';
import { cardResponse } from '../support/devices.ts';

export const dir = mkdtempSync(join(tmpdir(), 'dsc-attacks-'));
export const cleanUp = () => rmSync(dir, { recursive: true, force: true });

let files = 0;
/** A host on a new SQLite file with the default issue limits and lockout. */
export async function sqliteHost(options: { lockLimit?: number; auditKeepMs?: number } = {}): Promise<{ host: LoginHost; clock: Clock; dbPath: string }> {
  const dbPath = join(dir, `attack-${++files}.sqlite`);
  const { host, clock } = await testHost({ dbPath, realIssueLimits: true, ...options });
  return { host, clock, dbPath };
}

export const wrongOf = (r: string) => r.slice(0, -1) + String((Number(r.at(-1)) + 1) % 10);

/** The owner's login: a challenge for `serial`, answered by the card; returns the session token. */
export async function ownerLogin(host: LoginHost, user: string, record: DeviceRecord, pin = '1234'): Promise<string> {
  const issued = await host.challenge({ user, serial: record.serial });
  const result = await host.verify({ user, challenge: issued.challenge, response: cardResponse(record, issued.challenge, pin), purpose: 'login' });
  if (!result.ok || !result.session) throw new Error(`owner login failed: ${JSON.stringify(result)}`);
  return result.session.token;
}
