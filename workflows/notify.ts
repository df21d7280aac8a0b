/**
 * Runbook notifications from workflow code: the document's webhooks that listen for an event get
 * one JSON body each (a one-line `text` plus details), sent by the `sendNotification` activity,
 * retried a little and never failing the caller (the caller waits for them, so never for long).
 */
import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NotifyEvent, RunbookDocument } from '../src/contract/runbook/document';

const { sendNotification } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '5 seconds', maximumAttempts: 3 },
});

/** Sends `text` (and `extra`) to every webhook of `doc` that listens for `event`; no command when none does. */
export async function notifyHooks(
  doc: RunbookDocument,
  event: NotifyEvent,
  text: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const hooks = (doc.notify ?? []).filter((n) => n.on.includes(event));
  await Promise.all(
    hooks.map((n) =>
      sendNotification({ urlRef: n.urlRef, body: { text, event, runbook: doc.name, site: doc.site, ...extra } }).catch(
        (err: unknown) => log.warn('notification not delivered', { event, error: (err as Error).message }),
      ),
    ),
  );
}
