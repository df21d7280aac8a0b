/**
 * `drRunbook`: one runbook document, run as ordered stages of parallel steps, each step a child
 * step workflow (start under the appliance lease → poll → verify). Restores wait for an approval
 * (Update `approve` / `reject`, with a timeout after which the step fails safe). A failed step stops
 * the later stages unless `continueOnFailure`. On cancel, the steps in flight are cancelled on
 * their appliances (compensation, in a non-cancellable scope) and the report says so honestly: a
 * finished backup is reported as done, never "rolled back". The result is the report.
 *
 * This file is the workflow itself, in the order its commands go out: validate, plan (./plan.ts),
 * build the run's state (`RunbookRun`, ./run.ts), wire the message handlers to it, visibility,
 * the policy and recovery point checks, the stages, the end.
 */
import { CancellationScope, condition, patched, setHandler, upsertMemo } from '@temporalio/workflow';
import type { RunbookPolicyCheck } from '../../activities';
import { Runbook, type RunbookDocument, DrRunbookOptions } from '../../src/contract/runbook/document';
import { parseDuration } from '../../src/contract/duration';
import type { RunbookReport } from '../../src/contract/runbook/report';
import {
  approveUpdate,
  pauseSignal,
  progressQuery,
  rejectUpdate,
  resumeSignal,
  stepProgressSignal,
} from '../../src/contract/messages';
import { ending, validateInput } from '../boundary';
import { recordCallerIdentities } from '../caller-identity';
import { plan } from './plan';
import { askRegisteredSearchAttributes, checkRunbookPolicy, checkRunbookPolicyLocally } from './proxies';
import { RunbookRun } from './run';
import { SA, searchAttributeWriter } from './visibility';

export { DrRunbookOptions };

const DEFAULT_APPROVAL_TIMEOUT_MS = 24 * 3_600_000;

/**
 * Marks the runs that check their runbook against the worker's credential policy first (activity
 * `checkRunbookPolicy`, which also reads who started the run), approve only by a verified second
 * person, and validate a restore before its approval (warnings shown, accepted or the restore never
 * starts). Asked once, first thing; histories recorded before it replay as they ran.
 * https://docs.temporal.io/develop/typescript/versioning#patching
 */
export const TRUST_BOUNDARY_PATCH = 'vmware-dr-trust-boundary';

/**
 * Marks the runs with a quiet history (asked first; a run with it has the trust boundary too, and
 * records only this marker): the policy check and the list of registered search attributes come
 * from one local activity (a marker in the first workflow task instead of two activities and two
 * workflow tasks), the first search attributes go out with the first stage's in one upsert, and
 * what the run waits for is written to its memo (`waitingFor`) and `VmwareDrWaitingFor` when it
 * changes. Step progress reaches the run only on a change of step state (busy waits); the job's
 * percent is read on demand from the step (`runbookProgress`), never signalled per 10 % mark.
 * Histories recorded before it replay as they ran.
 * https://docs.temporal.io/develop/typescript/versioning#patching
 */
export const QUIET_HISTORY_PATCH = 'vmware-dr-quiet-history';

/** Runs a runbook document: stages in order, steps of a stage in parallel. Returns the report. */
export async function drRunbook(
  rawDocument: RunbookDocument,
  rawOptions: DrRunbookOptions = {},
): Promise<RunbookReport> {
  return ending(async () => {
    const doc = validateInput('drRunbook', Runbook, rawDocument);
    const options = validateInput('drRunbook options', DrRunbookOptions, rawOptions ?? {});
    const approvalTimeoutMs = options.approvalTimeout
      ? parseDuration(options.approvalTimeout)
      : DEFAULT_APPROVAL_TIMEOUT_MS;
    const { stages } = plan(doc);

    // Messages: progress, approvals, pause/resume. Who sends each, as the server recorded it, first.
    const identities = recordCallerIdentities([pauseSignal.name, resumeSignal.name]);
    // Histories from before quiet history, and before the trust boundary, replay as they ran
    // (see QUIET_HISTORY_PATCH, TRUST_BOUNDARY_PATCH): a quiet run has the trust boundary too.
    const quiet = patched(QUIET_HISTORY_PATCH);
    const trusted = quiet || patched(TRUST_BOUNDARY_PATCH);
    const run = new RunbookRun(doc, stages, {
      dryRun: options.dryRun === true,
      approvalTimeoutMs,
      ...(options.approvalTimeout !== undefined && { approvalTimeout: options.approvalTimeout }),
      quiet,
      trusted,
      identities,
    });
    const { approvals } = run;
    setHandler(progressQuery, () => run.report, {
      description: 'The report so far: each step, what it waits for, approvals, the audit trail.',
    });
    setHandler(approveUpdate, (req) => approvals.approve(req), {
      description:
        'Approve a step waiting for approval: { step, by, comment?, acceptWarnings? }. Refused (no history) unless the caller is a verified second person the policy and runbook allow, and, for a restore with warnings, accepts them.',
      validator: (req) => approvals.validateApprove(req),
    });
    setHandler(rejectUpdate, (req) => approvals.reject(req), {
      description:
        'Reject a step waiting for approval: { step, by, reason }. The step does not run; anyone may reject (it stops a change).',
      validator: (req) => approvals.validateReject(req),
    });
    // A running child step says when its appliance is busy (and when it no longer waits): a change
    // of its state. Its job's percent is read from the step on demand (runbookProgress); poll
    // activities of workers from before quiet history still signal it, and it is kept.
    setHandler(stepProgressSignal, (progress) => run.stepProgress(progress), {
      description:
        'From a step workflow of this run (not for people): its start attempts and busy waits, when they change.',
    });
    setHandler(pauseSignal, (req) => run.pauseOrResume('paused', req), {
      description: 'Pause the run before its next stage: { by? }. Steps in flight go on.',
    });
    setHandler(resumeSignal, (req) => run.pauseOrResume('resumed', req), {
      description: 'Resume a paused run: { by? }.',
    });
    // Who cancelled is in the history (the CLI's report adds it); the run records when and why.
    CancellationScope.current().cancelRequested.catch(() => run.cancelRequested());

    // Visibility (after the message handlers, so a query never finds the run without them): memo (what the run is) and search attributes (kept current).
    upsertMemo({
      runbook: {
        name: doc.name,
        site: doc.site,
        dryRun: run.settings.dryRun,
        stages: doc.stages.map((st) => `${st.name} (${st.steps.length} step${st.steps.length === 1 ? '' : 's'})`),
      },
    });
    // A quiet run checks its policy (and learns the registered search attributes) in one local
    // activity, and writes its first search attributes with the first stage's (one event).
    let gate: RunbookPolicyCheck | undefined;
    if (quiet) {
      gate = await checkRunbookPolicyLocally({ document: doc, searchAttributes: true });
      run.setAttributes = searchAttributeWriter(gate.searchAttributes ?? [], { quiet });
    } else
      run.setAttributes = searchAttributeWriter(await askRegisteredSearchAttributes().catch(() => [] as string[]), {
        quiet,
      });
    run.setAttributes(
      [
        { key: SA.runbook, value: doc.name },
        ...(doc.site !== undefined ? [{ key: SA.site, value: doc.site }] : []),
        { key: SA.products, value: [...new Set(run.all.map((p) => p.endpoint.product))] },
        { key: SA.appliances, value: [...new Set(run.all.map((p) => p.endpoint.name))] },
        { key: SA.dryRun, value: run.settings.dryRun },
        { key: SA.outcome, value: 'running' },
        // What a signal before this point said the run waits for (a pause sent with the start).
        ...run.held,
      ],
      { defer: quiet },
    );

    // The worker's credential policy first (read only, with who started the run): what it refuses
    // fails those steps and stops the run before any connection to an appliance.
    if (trusted) {
      gate ??= await checkRunbookPolicy({ document: doc });
      run.applyPolicy(gate);
    }
    // Recovery points next, read only: a set that is unknown, failed or lacks a backup a step
    // restores fails those steps and stops the run before any state-changing call.
    let stopped = await run.checkRecoveryPoints();
    let cancelled = false;
    for (const stage of stages) {
      if (run.paused) await condition(() => !run.paused).catch(() => undefined);
      cancelled ||= CancellationScope.current().consideredCancelled;
      if (stopped || cancelled) break;
      run.setAttributes([{ key: SA.stage, value: stage.name }]);
      run.waits.setStage(
        `stage ${stages.indexOf(stage) + 1}/${stages.length} ${stage.name}: ${stage.steps.map((p) => `${p.report.action} ${p.report.endpoint}`).join(', ')}`,
      );
      const stageStart = Date.now();
      await Promise.all(stage.steps.map((p) => run.runStep(p, stageStart, stage.startWithinMs)));
      if (
        stage.steps.some((p) => (p.report.state === 'failed' || p.report.state === 'rejected') && !p.continueOnFailure)
      )
        stopped = true;
    }
    cancelled ||= CancellationScope.current().consideredCancelled;
    return run.end(cancelled);
  });
}
