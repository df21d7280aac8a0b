/**
 * Durations, both ways. Written with units (`30s`, `5m`, `26h`, `1h30m`, `250ms`): the notation of
 * runbooks, schedules, freshness options and worker settings, read by `parseDuration` and checked
 * by `durationText`. Shown to people in two forms, on purpose different:
 * - `formatDurationText`: the notation itself, two largest units (`1m30s`, `1d2h`): in freshness
 *   reasons, schedule listings and bound messages, where the reader may write it back;
 * - `formatDuration`: spaced words (`2 min 5 s`, `1 h 2 min`): in runbook reports and step details.
 * Pure.
 */
import { z } from 'zod';

/** The notation: one or more `<digits><unit>` with unit ms, s, m, h or d. */
export const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h|d))+$/;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30s`, `5m`, `6h`, `1h30m`, `250ms` → milliseconds (the sum of its parts). Pure. */
export function parseDuration(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return total;
}

/** A duration text between `minMs` and `maxMs` (inclusive); the message names the bounds. */
export function durationText(minMs: number, maxMs: number) {
  return z
    .string()
    .regex(DURATION_PATTERN, { message: 'must be a duration such as 30s, 5m, 26h or 1h30m', abort: true })
    .refine((v) => parseDuration(v) >= minMs && parseDuration(v) <= maxMs, {
      message: `must be between ${formatDurationText(minMs)} and ${formatDurationText(maxMs)}`,
    });
}

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/**
 * Milliseconds in the notation, as the two largest units: `93_600_000` → `1d2h`, `90_000` →
 * `1m30s`, `250ms`. Rounds to the millisecond, then down to the units shown; negative → `0ms`.
 */
export function formatDurationText(ms: number): string {
  const abs = Math.max(0, Math.round(ms));
  if (abs < 1_000) return `${abs}ms`;
  const parts: string[] = [];
  let rest = abs;
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.join('') || '0s';
}

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * A duration for people: `"850 ms"`, `"45 s"`, `"2 min 5 s"`, `"2 min"`, `"1 h 2 min"`, `"26 h"`.
 * Rounds down to the unit shown; `""` for a negative or non-finite value.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < SECOND_MS) return `${Math.floor(ms)} ms`;
  if (ms < MINUTE_MS) return `${Math.floor(ms / SECOND_MS)} s`;
  if (ms < HOUR_MS) {
    const min = Math.floor(ms / MINUTE_MS);
    const s = Math.floor((ms % MINUTE_MS) / SECOND_MS);
    return s === 0 ? `${min} min` : `${min} min ${s} s`;
  }
  const h = Math.floor(ms / HOUR_MS);
  const min = Math.floor((ms % HOUR_MS) / MINUTE_MS);
  return min === 0 ? `${h} h` : `${h} h ${min} min`;
}
