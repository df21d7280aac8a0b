/** The activities `drRunbook` calls itself (read only), as proxies with their options. */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { STEP_HEARTBEAT_TIMEOUT } from '../step';

export const {
  findVcenterArchive,
  checkEndpoint,
  validateVcenterBackup,
  validateVcenterRestore,
  readRecoveryPoint,
  checkRunbookPolicy,
} = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  // They heartbeat (asActivity): a killed worker's attempt is retried within seconds, not minutes.
  heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/** Which search attributes exist (runs before quiet history): asked once; a failure only means none are set. */
export const { registeredSearchAttributes: askRegisteredSearchAttributes } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 2 },
});

/**
 * The policy check of a run with quiet history: a local activity (read only, milliseconds), so it
 * runs inside the first workflow task and records one marker; it also answers which search
 * attributes the namespace has registered.
 */
export const { checkRunbookPolicy: checkRunbookPolicyLocally } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});
