/**
 * The Nexus service contract for "run a runbook", shared by the handler (worker/nexus.ts) and by
 * callers in other namespaces (a workflow calls it with `createNexusServiceClient` from
 * @temporalio/workflow). Pure: nexus-rpc and zod only, so workflow code may import it.
 *
 * Nexus: https://docs.temporal.io/nexus ("a Nexus Service is a named collection of arbitrary-duration
 * Nexus Operations"; callers reach it through a Nexus Endpoint that targets a namespace and task queue).
 */
import * as nexus from 'nexus-rpc';
import { z } from 'zod';
import { MAX_NAME_LENGTH } from '../contract/names';
import { DrRunbookOptions, type RunbookDocument } from '../contract/runbook/document';
import type { RunbookReport } from '../contract/runbook/report';

/** The Nexus service name callers address (with the endpoint name their operator created). */
export const RUNBOOK_NEXUS_SERVICE = 'vmware-dr-runbook';

/** The input of `runRunbook`: the document and options exactly as `drRunbook(document, options)` takes them. */
export interface RunRunbookInput {
  /** The runbook document (the same JSON as a runbook file or the Temporal UI's input of `drRunbook`). */
  document: RunbookDocument;
  /** The options of this run (`dryRun`, `approvalTimeout`). @default {} */
  options?: DrRunbookOptions;
  /**
   * The workflow id of the `drRunbook` run in the handler's namespace. While a run with this id is
   * open, another operation given the same id attaches to it instead of starting a second one.
   * @default `runbook/${document.name}/nexus/${the Nexus request id}` (stable across the caller's retries)
   */
  workflowId?: string;
}

/**
 * The envelope of {@link RunRunbookInput}, checked by the handler before anything starts. The
 * document itself is checked against the runbook schema (`Runbook`) by the handler too.
 */
export const RunRunbookEnvelope = z
  .object({
    document: z.unknown().refine((d) => d !== undefined, 'is required: the runbook document (apiVersion, kind, …)'),
    options: DrRunbookOptions.optional(),
    workflowId: z
      .string()
      .min(1, 'must not be empty: leave it out to derive one from the Nexus request id')
      .max(4 * MAX_NAME_LENGTH, `must be at most ${4 * MAX_NAME_LENGTH} characters`)
      .regex(/^[^\r\n\0]*$/, 'must be one line of text')
      .optional(),
  })
  .strict();

/**
 * The service definition: one operation, `runRunbook`, backed by a `drRunbook` workflow run whose
 * result (the report, whatever the outcome) is the operation's result.
 */
export const runbookNexusService = nexus.service(RUNBOOK_NEXUS_SERVICE, {
  runRunbook: nexus.operation<RunRunbookInput, RunbookReport>(),
});

export type RunbookNexusService = typeof runbookNexusService;
