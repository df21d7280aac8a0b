/**
 * Backup freshness: the SLO options of the `freshness` workflow, what it reads per endpoint and
 * how an endpoint is rated (green / amber / red). Pure (zod only): shared by the workflow, the
 * activity, clients and the unit tests.
 */
import { z } from 'zod';
import { durationText, formatDurationText, parseDuration } from './duration';
import type { Product } from './names';

export type FreshnessRating = 'green' | 'amber' | 'red';

/** Default longest age of the last successful backup before an endpoint is red (a daily backup plus 2 h). */
export const DEFAULT_FRESHNESS_MAX_AGE = '26h';
/** Default amber threshold, as a share of `maxAge`. */
export const DEFAULT_AMBER_FRACTION = 0.75;

const MIN_AGE_MS = 1_000;
const MAX_AGE_MS = 400 * 86_400_000;

/** The SLO of a `freshness` run. */
export const FreshnessOptions = z
  .object({
    /** Longest age of the last successful backup; older is red. @default '26h' */
    maxAge: durationText(MIN_AGE_MS, MAX_AGE_MS).optional(),
    /** Age after which the endpoint is amber. @default 75 % of maxAge */
    amberAfter: durationText(MIN_AGE_MS, MAX_AGE_MS).optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.amberAfter === undefined) return;
    const max = parseDuration(o.maxAge ?? DEFAULT_FRESHNESS_MAX_AGE);
    if (parseDuration(o.amberAfter) > max)
      ctx.addIssue({
        code: 'custom',
        path: ['amberAfter'],
        message: `must not be longer than maxAge (${o.maxAge ?? DEFAULT_FRESHNESS_MAX_AGE})`,
      });
  });
export type FreshnessOptions = z.input<typeof FreshnessOptions>;

/** The SLO in milliseconds, defaults applied. */
export interface FreshnessSlo {
  maxAgeMs: number;
  amberAfterMs: number;
}

/** Applies the defaults of {@link FreshnessOptions} (input already validated). */
export function compileFreshnessSlo(options: FreshnessOptions = {}): FreshnessSlo {
  const maxAgeMs = parseDuration(options.maxAge ?? DEFAULT_FRESHNESS_MAX_AGE);
  const amberAfterMs =
    options.amberAfter !== undefined
      ? parseDuration(options.amberAfter)
      : Math.floor(maxAgeMs * DEFAULT_AMBER_FRACTION);
  return { maxAgeMs, amberAfterMs };
}

/** How a backup run ended, read from the product's own status. */
export type BackupOutcome = 'succeeded' | 'failed' | 'running' | 'other';

/** One backup run as the product reports it. */
export interface BackupAttempt {
  /** When it started (ISO 8601, the appliance's clock). */
  at: string;
  /** The product's own status word (`SUCCEEDED`, `SUCCESSFUL`, `FAILED`, `RUNNING`, …). */
  status: string;
  outcome: BackupOutcome;
}

/** What `readLastBackup` found on one endpoint. Read only: nothing was changed to find it. */
export interface LastBackupReading {
  /** The runbook's endpoint key. */
  endpoint: string;
  product: Product;
  /** When the newest successful backup started (its data is as of then). */
  lastSuccessAt?: string;
  /** When the newest failed backup run started. */
  lastFailureAt?: string;
  /** The newest backup run, whatever its state. */
  lastAttempt?: BackupAttempt;
  /** What was read, in words (e.g. `12 backup jobs`). */
  source: string;
}

/** One endpoint of a freshness result. */
export interface EndpointFreshness {
  endpoint: string;
  product: Product;
  rating: FreshnessRating;
  lastSuccessAt?: string;
  lastAttempt?: { at: string; status: string };
  /** Age of the last successful backup when checked, ms. */
  ageMs?: number;
  /** Why this rating, in words. */
  reason: string;
}

/** The result of a `freshness` run. */
export interface FreshnessResult {
  runbook: string;
  /** Workflow time of the check (ISO 8601). */
  checkedAt: string;
  maxAgeMs: number;
  amberAfterMs: number;
  endpoints: EndpointFreshness[];
  /** The worst rating of all endpoints (green when there is none). */
  overall: FreshnessRating;
}

const ORDER: Record<FreshnessRating, number> = { green: 0, amber: 1, red: 2 };

/** The worst of some ratings; green for none. */
export function worstRating(ratings: readonly FreshnessRating[]): FreshnessRating {
  return ratings.reduce<FreshnessRating>((w, r) => (ORDER[r] > ORDER[w] ? r : w), 'green');
}

/**
 * Rates one endpoint at `nowMs`: red when the newest finished run failed (a failure newer than
 * the last success, whatever its age), when there is no successful backup, or when the last
 * successful one is older than `maxAgeMs`; amber when it is older than `amberAfterMs`; green
 * otherwise. Only a successful backup's age counts: a run still in progress never makes it green.
 */
export function rateFreshness(
  reading: Pick<LastBackupReading, 'lastSuccessAt' | 'lastFailureAt'>,
  slo: FreshnessSlo,
  nowMs: number,
): { rating: FreshnessRating; ageMs?: number; reason: string } {
  const successMs = reading.lastSuccessAt !== undefined ? Date.parse(reading.lastSuccessAt) : Number.NaN;
  const failureMs = reading.lastFailureAt !== undefined ? Date.parse(reading.lastFailureAt) : Number.NaN;
  const hasSuccess = Number.isFinite(successMs);
  const ageMs = hasSuccess ? Math.max(0, nowMs - successMs) : undefined;
  const age = ageMs !== undefined ? `the last successful backup is ${formatDurationText(ageMs)} old` : undefined;
  if (Number.isFinite(failureMs) && (!hasSuccess || failureMs > successMs)) {
    return {
      rating: 'red',
      ...(ageMs !== undefined && { ageMs }),
      reason: `the last backup run failed (started ${reading.lastFailureAt}); ${age ?? 'no successful backup found'}`,
    };
  }
  if (ageMs === undefined) return { rating: 'red', reason: 'no successful backup found' };
  if (ageMs > slo.maxAgeMs)
    return { rating: 'red', ageMs, reason: `${age}, over the maximum of ${formatDurationText(slo.maxAgeMs)}` };
  if (ageMs > slo.amberAfterMs)
    return {
      rating: 'amber',
      ageMs,
      reason: `${age}, over the amber threshold of ${formatDurationText(slo.amberAfterMs)}`,
    };
  return { rating: 'green', ageMs, reason: `${age}, within ${formatDurationText(slo.amberAfterMs)}` };
}

/**
 * The newest success, newest failure and newest attempt of some backup runs (any order). Runs
 * whose start time cannot be read are left out: they cannot be dated.
 */
export function summariseAttempts(
  attempts: readonly BackupAttempt[],
): Pick<LastBackupReading, 'lastSuccessAt' | 'lastFailureAt' | 'lastAttempt'> {
  const dated = attempts
    .filter((a) => Number.isFinite(Date.parse(a.at)))
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const success = dated.find((a) => a.outcome === 'succeeded');
  const failure = dated.find((a) => a.outcome === 'failed');
  return {
    ...(success && { lastSuccessAt: success.at }),
    ...(failure && { lastFailureAt: failure.at }),
    ...(dated[0] && { lastAttempt: dated[0] }),
  };
}
