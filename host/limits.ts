/**
 * Withdrawal limits by the kind of device that authorizes the withdrawal (IBKR KB2895, "Multiple 2-Factor
 * System": Security Code Card and IBKR Mobile USD 200,000 a day / 600,000 in five business days; Digital Security
 * Card USD 1,000,000 / 1,500,000; DSC+, Gold and Platinum devices unlimited).
 */
import type { DeviceKind } from './store.ts';

export interface WithdrawalLimit {
  /** Whole US dollars; Infinity means unlimited. */
  readonly dailyUsd: number;
  readonly fiveBusinessDaysUsd: number;
}

export const withdrawalLimits: Readonly<Record<DeviceKind, WithdrawalLimit>> = {
  'security-code-card': { dailyUsd: 200_000, fiveBusinessDaysUsd: 600_000 },
  'mobile-app': { dailyUsd: 200_000, fiveBusinessDaysUsd: 600_000 },
  dsc: { dailyUsd: 1_000_000, fiveBusinessDaysUsd: 1_500_000 },
  dscplus: { dailyUsd: Number.POSITIVE_INFINITY, fiveBusinessDaysUsd: Number.POSITIVE_INFINITY },
  gold: { dailyUsd: Number.POSITIVE_INFINITY, fiveBusinessDaysUsd: Number.POSITIVE_INFINITY },
  platinum: { dailyUsd: Number.POSITIVE_INFINITY, fiveBusinessDaysUsd: Number.POSITIVE_INFINITY },
};

export const businessDaysInWindow = 5;
/** Milliseconds in a day (UTC days: no daylight-saving hours here). */
export const dayMs = 86_400_000;

function isBusinessDay(dayStartMs: number): boolean {
  const weekday = new Date(dayStartMs).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

/** Start of the UTC day containing `nowMs`. */
export function dayStartMs(nowMs: number): number {
  return Math.floor(nowMs / dayMs) * dayMs;
}

/**
 * Start (UTC midnight) of the running window of `businessDaysInWindow` business days that ends today: today
 * counts when it is a business day, and weekends inside the window are included. Days are UTC days (the
 * simulator has no holiday calendar).
 * @example
 * businessWindowStartMs(Date.UTC(2026, 10, 23, 15)); // Monday -> Tuesday 2026-11-17 00:00 UTC
 */
export function businessWindowStartMs(nowMs: number): number {
  let day = dayStartMs(nowMs);
  let counted = isBusinessDay(day) ? 1 : 0;
  while (counted < businessDaysInWindow) {
    day -= dayMs;
    if (isBusinessDay(day)) counted++;
  }
  return day;
}

/** Whether `amountUsd` fits the limits of `kind`, given what the user already withdrew today and in the window. */
export function withdrawalAllowed(kind: DeviceKind, amountUsd: number, todayUsd: number, windowUsd: number): { ok: true } | { ok: false; reason: string } {
  const limit = withdrawalLimits[kind];
  if (todayUsd + amountUsd > limit.dailyUsd) {
    return { ok: false, reason: `a ${kind} covers USD ${limit.dailyUsd.toLocaleString('en-US')} a day (USD ${todayUsd.toLocaleString('en-US')} already today)` };
  }
  if (windowUsd + amountUsd > limit.fiveBusinessDaysUsd) {
    return { ok: false, reason: `a ${kind} covers USD ${limit.fiveBusinessDaysUsd.toLocaleString('en-US')} in five business days (USD ${windowUsd.toLocaleString('en-US')} already)` };
  }
  return { ok: true };
}
