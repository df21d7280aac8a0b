/**
 * The one result shape of every step workflow (`vcenterBackupStep`, `sddcManagerRestoreStep`, …),
 * so a runbook composes them and a report renders them without knowing the product. Pure (types
 * and string arithmetic only): safe to import from workflows, clients and the CLI.
 */
import type { Product } from './names';

/** The product of a step: the one {@link Product} union, under the name this module has always exported. */
export type StepProduct = Product;
export type StepAction = 'backup' | 'restore';

export interface StepResult {
  product: StepProduct;
  action: StepAction;
  /** The appliance, as `endpointName(endpoint)` names it. */
  appliance: string;
  /** vCenter backup job id, `'restore'` for a vCenter restore, SDDC Manager task id, VCDA task id. */
  remoteId: string;
  outcome: 'succeeded';
  /** ISO times, by the appliance's clock where it gives them, else workflow time. */
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  /** Where the backup went, its size and hash, where the product gives them. */
  location?: string;
  sizeBytes?: number;
  hash?: string;
  /** True when a retried start attached to the remote job this step had already started. */
  attached: boolean;
  /** Human-readable checks that passed. */
  verification: { checks: string[] };
}

/** `end − start` in ms for two ISO times, or undefined when either is missing or unreadable. */
export function durationBetween(start: string | undefined, end: string | undefined): number | undefined {
  if (start === undefined || end === undefined) return undefined;
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) ? ms : undefined;
}
