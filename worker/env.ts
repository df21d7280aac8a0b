/**
 * The worker's environment variables: names, defaults and help lines. No dependencies beyond
 * constants, so `vmware-dr worker --help` prints them without loading the worker.
 */
import { CODEC_ENV_HELP } from '../src/codec/keys';
import { DEFAULT_TASK_QUEUE } from '../src/contract/names';
import { LOG_FORMATS, LOG_LEVELS } from '../src/core/log-levels';

/** Prometheus port of the worker (the project's metrics plus the Temporal runtime's). */
export const DEFAULT_METRICS_PORT = 9464;
/** Address the metrics server listens on (all interfaces, for a scraper in another container). */
export const DEFAULT_METRICS_HOST = '0.0.0.0';
/** How long running activities may take to finish after SIGTERM before they are cancelled. */
export const DEFAULT_SHUTDOWN_GRACE_TIME = '20s';
/** Longest shutdown grace time accepted. */
export const MAX_SHUTDOWN_GRACE_MS = 60 * 60_000;
/**
 * Activity slots. A poll activity holds its slot for its remote job's whole life, so the SDK's 100
 * makes runs queue in waves past 100 jobs in flight; bench/RESULTS.md measured 300 runbooks: p95
 * lag 12.8 s and a 219 s tail with 100 slots, 9.1 s / 34 s sized, same memory. Hence 400.
 */
export const DEFAULT_MAX_CONCURRENT_ACTIVITIES = 400;
/** The SDK's own default, restated so `--help` can show it. */
export const DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS = 40;

/** Every variable this file reads, with its help line (for `vmware-dr worker --help`). */
export const WORKER_ENV_HELP: [name: string, help: string][] = [
  [
    'VMWARE_DR_POLICY',
    'REQUIRED: the credential policy file (YAML/JSON): which appliances, secrets, backup locations and webhooks runbooks may use; `vmware-dr policy init RUNBOOK...` writes a starting one',
  ],
  ['VMWARE_DR_TASK_QUEUE', `task queue to poll (default ${DEFAULT_TASK_QUEUE})`],
  ['VMWARE_DR_POLL_INTERVAL_MS', 'default wait between status polls of a remote job, ms (default 15000)'],
  ['VMWARE_DR_BUSY_RETRY_DELAY_MS', 'wait before retrying a call the appliance answered "busy", ms (default 30000)'],
  ['VMWARE_DR_MAX_CONCURRENT_ACTIVITIES', `activities run at once (default ${DEFAULT_MAX_CONCURRENT_ACTIVITIES})`],
  [
    'VMWARE_DR_MAX_CONCURRENT_WORKFLOW_TASKS',
    `workflow tasks run at once (default ${DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS})`,
  ],
  ['VMWARE_DR_METRICS_PORT', `Prometheus /metrics port (default ${DEFAULT_METRICS_PORT}; 0 or empty: no metrics)`],
  ['VMWARE_DR_METRICS_HOST', `address the metrics server listens on (default ${DEFAULT_METRICS_HOST})`],
  [
    'VMWARE_DR_RUNTIME_METRICS_PORT',
    "loopback port of the Temporal runtime's exporter, merged into /metrics (default: metrics port + 1)",
  ],
  ['VMWARE_DR_LOG_LEVEL', `${LOG_LEVELS.join('|')} (default info)`],
  ['VMWARE_DR_LOG_FORMAT', `${LOG_FORMATS.join('|')} (default json: one JSON object per line)`],
  [
    'VMWARE_DR_WORKFLOW_BUNDLE',
    'prebuilt workflow bundle (default: dist/workflow-bundle.js, written by npm run build)',
  ],
  [
    'VMWARE_DR_SHUTDOWN_GRACE_TIME',
    `time running activities get to finish after SIGTERM, e.g. 30s (default ${DEFAULT_SHUTDOWN_GRACE_TIME})`,
  ],
  ...CODEC_ENV_HELP,
];
