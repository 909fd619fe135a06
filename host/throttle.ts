/**
 * Throttling after failed verifications (RFC 4226 §7.3; NIST SP 800-63B §5.2.2: at most 100 consecutive failures
 * before a lock). The first `freeFailures` failures cost nothing (typos happen); after that each failure doubles
 * the wait before the next attempt, up to `failureDelayMaxMs`. At `lockLimit` consecutive failures the device
 * locks until an administrator unlocks it. A success resets the count.
 */
export const defaultLockLimit = 10;
/** NIST SP 800-63B: no more than 100 consecutive failed attempts. */
export const lockLimitMax = 100;
export const freeFailures = 2;
export const failureDelayBaseMs = 1_000;
export const failureDelayMaxMs = 5 * 60_000;

/**
 * The wait after `failures` consecutive failures.
 * @example
 * failureDelayMs(2); // 0
 * failureDelayMs(3); // 1000
 * failureDelayMs(5); // 4000
 */
export function failureDelayMs(failures: number): number {
  if (failures <= freeFailures) return 0;
  return Math.min(failureDelayBaseMs * 2 ** Math.min(failures - freeFailures - 1, 30), failureDelayMaxMs);
}
