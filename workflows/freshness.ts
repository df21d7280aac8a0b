/**
 * `freshness`: is every endpoint a runbook backs up within its backup SLO? For each endpoint of
 * the document's backup steps, one read-only activity reads the product's newest backup runs;
 * each endpoint is rated green / amber / red (see `rateFreshness`) and the result carries the
 * worst. Short and loop-free, so it fits a Temporal Schedule: a few activities per run, no timer.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
} from '@temporalio/workflow';
import type { Activities, ReadLastBackupInput } from '../activities';
import {
  type EndpointFreshness,
  type FreshnessResult,
  FreshnessOptions,
  compileFreshnessSlo,
  rateFreshness,
  worstRating,
} from '../src/contract/freshness';
import { Runbook, type RunbookDocument, type RunbookEndpoint } from '../src/contract/runbook/document';
import { ending, validateInput } from './boundary';
import { notifyHooks } from './notify';

export type { FreshnessResult };
export { FreshnessOptions };

const { readLastBackup } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 3 },
});

/** The endpoints the document backs up, in the order of their first backup step. */
function backedUpEndpoints(doc: RunbookDocument): string[] {
  const keys = doc.stages.flatMap((s) => s.steps.flatMap((step) => ('backup' in step ? [step.backup] : [])));
  return [...new Set(keys)];
}

/** Why a read failed, in words: the innermost application failure. */
function readError(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    if (e instanceof ApplicationFailure) return `${e.type ?? 'ApplicationFailure'}: ${e.message}`;
    e = (e as { cause?: unknown }).cause;
  }
  return String((err as Error)?.message ?? err);
}

/**
 * Rates the backup freshness of every endpoint `document` backs up. Validates both inputs first
 * (`InvalidInput`, nothing read). Read only. An endpoint that cannot be read is red, with why.
 */
export async function freshness(
  rawDocument: RunbookDocument,
  rawOptions: FreshnessOptions = {},
): Promise<FreshnessResult> {
  return ending(async () => {
    const doc = validateInput('freshness', Runbook, rawDocument);
    const options = validateInput('freshness options', FreshnessOptions, rawOptions ?? {});
    const slo = compileFreshnessSlo(options);
    const keys = backedUpEndpoints(doc);
    // What it does now, for the UI's Current Details (not history).
    setCurrentDetails(
      `reading the newest backups of ${keys.length} endpoint${keys.length === 1 ? '' : 's'}: ${keys.join(', ')}`,
    );
    // Read every endpoint in parallel; a read that fails is recorded, not thrown.
    const readings = await Promise.all(
      keys.map(async (key) => {
        const { product, ...endpoint } = doc.endpoints[key] as RunbookEndpoint;
        try {
          const reading = await readLastBackup({
            endpointKey: key,
            product,
            endpoint: { ...endpoint, name: key },
          } as ReadLastBackupInput);
          return { key, product, reading };
        } catch (err) {
          if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
          return { key, product, error: readError(err) };
        }
      }),
    );
    // One clock for every rating: the workflow time once all reads are back.
    const now = Date.now();
    const endpoints = readings.map(({ key, product, reading, error }): EndpointFreshness => {
      if (!reading) return { endpoint: key, product, rating: 'red', reason: `could not read its backups: ${error}` };
      const rated = rateFreshness(reading, slo, now);
      return {
        endpoint: key,
        product,
        rating: rated.rating,
        ...(reading.lastSuccessAt !== undefined && { lastSuccessAt: reading.lastSuccessAt }),
        ...(reading.lastAttempt !== undefined && {
          lastAttempt: { at: reading.lastAttempt.at, status: reading.lastAttempt.status },
        }),
        ...(rated.ageMs !== undefined && { ageMs: rated.ageMs }),
        reason: rated.reason,
      };
    });
    const result: FreshnessResult = {
      runbook: doc.name,
      checkedAt: new Date(now).toISOString(),
      maxAgeMs: slo.maxAgeMs,
      amberAfterMs: slo.amberAfterMs,
      endpoints,
      overall: worstRating(endpoints.map((e) => e.rating)),
    };
    await notifyStale(doc, result);
    return result;
  });
}

/** Tells the runbook's `stale` webhooks which endpoints are not green (nothing when all are). */
async function notifyStale(doc: RunbookDocument, result: FreshnessResult): Promise<void> {
  const stale = result.endpoints.filter((e) => e.rating !== 'green');
  if (!stale.length) return;
  const text = `${doc.name}: backups ${result.overall}: ${stale.map((e) => `${e.endpoint} ${e.rating} (${e.reason})`).join('; ')}`;
  await notifyHooks(doc, 'stale', text, { overall: result.overall, endpoints: stale });
}
