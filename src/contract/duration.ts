/**
 * Durations written with units (`30s`, `5m`, `26h`, `1h30m`, `250ms`) as zod schemas, and their
 * short display form. The same notation as the runbook document (`parseDuration`). Pure.
 */
import { z } from 'zod';
import { parseDuration } from './runbook/document';

/** The notation: one or more `<digits><unit>` with unit ms, s, m, h or d. */
export const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h|d))+$/;

/** A duration text between `minMs` and `maxMs` (inclusive); the message names the bounds. */
export function durationText(minMs: number, maxMs: number) {
  return z
    .string()
    .regex(DURATION_PATTERN, { message: 'must be a duration such as 30s, 5m, 26h or 1h30m', abort: true })
    .refine((v) => parseDuration(v) >= minMs && parseDuration(v) <= maxMs, {
      message: `must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`,
    });
}

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** Milliseconds as the two largest units, e.g. `93_600_000` → `1d2h`, `90_000` → `1m30s`, `250ms`. */
export function formatDuration(ms: number): string {
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

export { parseDuration };
