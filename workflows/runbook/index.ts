/**
 * `drRunbook`: one runbook document, run as ordered stages of parallel steps, each step a child
 * step workflow (start under the appliance lease → poll → verify). Restores wait for an approval
 * (Update `approve` / `reject`, with a timeout after which the step fails safe). A failed step stops
 * the later stages unless `continueOnFailure`. On cancel, the steps in flight are cancelled on
 * their appliances (compensation, in a non-cancellable scope) and the report says so honestly: a
 * finished backup is reported as done, never "rolled back". The result is the report.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  ParentClosePolicy,
  TemporalFailure,
  condition,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, RecoveryPointBackup, RecoveryPointSet, RunbookPolicyCheck } from '../../activities';
import {
  Runbook,
  type RunbookDocument,
  DrRunbookOptions,
  type NotifyEvent,
  type RunbookEndpoint,
  type RunbookRestoreStep,
  type RunbookStep,
  parseDuration,
} from '../../src/contract/runbook/document';
import { type RunbookReport, type StepReport, overallOutcome } from '../../src/contract/runbook/report';
import {
  type ApprovalRule,
  DEFAULT_APPROVAL_RULE,
  approvalRefusal,
  approveCommandText,
} from '../../src/contract/runbook/approvals';
import { recordCallerIdentities } from '../caller-identity';
import type { StepResult } from '../../src/contract/results';
import { ending, validateInput } from '../boundary';
import { notifyHooks } from '../notify';
import { type AttributePair, type AttributeWriter, RunWaits, SA, searchAttributeWriter } from './visibility';
import { STEP_HEARTBEAT_TIMEOUT } from '../step';
import {
  RUNBOOK_STEP_MEMO,
  approveUpdate,
  pauseSignal,
  progressQuery,
  rejectUpdate,
  resumeSignal,
  stepProgressSignal,
} from '../../src/contract/messages';

export { DrRunbookOptions };

const DEFAULT_APPROVAL_TIMEOUT_MS = 24 * 3_600_000;
const DEFAULT_STEP_TIMEOUT = '6h';

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

/** What a step runs as: the child workflow and its input. */
interface PlannedStep {
  report: StepReport;
  step: RunbookStep;
  endpoint: RunbookEndpoint & { name: string };
  needsApproval: boolean;
  /** The runbook's own `approvers` of the step (narrow the policy's). */
  approvers?: string[];
  continueOnFailure: boolean;
  timeoutMs: number;
  pollIntervalMs?: number;
  pollMode?: 'heartbeat' | 'retry';
}

const {
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
const { registeredSearchAttributes: askRegisteredSearchAttributes } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 2 },
});

/**
 * The policy check of a run with quiet history: a local activity (read only, milliseconds), so it
 * runs inside the first workflow task and records one marker; it also answers which search
 * attributes the namespace has registered.
 */
const { checkRunbookPolicy: checkRunbookPolicyLocally } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/** The endpoint as the product's step workflows take it (the runbook key is its name). */
function productEndpoint(e: RunbookEndpoint & { name: string }): Record<string, unknown> {
  const { product: _product, ...rest } = e;
  return rest;
}

function plan(doc: RunbookDocument): { stages: { name: string; startWithinMs?: number; steps: PlannedStep[] }[] } {
  const d = doc.defaults ?? {};
  return {
    stages: doc.stages.map((stage, s) => ({
      name: stage.name,
      startWithinMs: stage.startWithin ? parseDuration(stage.startWithin) : undefined,
      steps: stage.steps.map((step, i) => {
        const action = 'backup' in step ? 'backup' : 'restore';
        const key = 'backup' in step ? step.backup : step.restore;
        const endpoint = { ...(doc.endpoints[key] as RunbookEndpoint), name: key };
        const approval = step.approval ?? d.approval ?? (action === 'restore' ? 'required' : 'none');
        const pollInterval = step.pollInterval ?? d.pollInterval;
        const pollMode = step.pollMode ?? d.pollMode;
        return {
          report: {
            id: `${s + 1}.${i + 1}`,
            stage: stage.name,
            action,
            endpoint: key,
            product: endpoint.product,
            state: 'pending',
          },
          step,
          endpoint,
          needsApproval: approval === 'required',
          ...((step.approvers ?? d.approvers) !== undefined && { approvers: step.approvers ?? d.approvers }),
          continueOnFailure: step.continueOnFailure ?? d.continueOnFailure ?? false,
          timeoutMs: parseDuration(step.timeout ?? d.timeout ?? DEFAULT_STEP_TIMEOUT),
          ...(pollInterval !== undefined && { pollIntervalMs: parseDuration(pollInterval) }),
          ...(pollMode !== undefined && { pollMode }),
        } satisfies PlannedStep;
      }),
    })),
  };
}

/** The child workflow and input for a step (after a vCenter restore's archive is resolved). */
function childFor(
  p: PlannedStep,
  doc: RunbookDocument,
  archiveLocation?: string,
  warningsAccepted = false,
): { workflow: string; input: Record<string, unknown> } {
  const common = {
    endpoint: productEndpoint(p.endpoint),
    timeoutMs: p.timeoutMs,
    stepId: `${p.report.stage}/${p.report.id}`,
    ...(p.pollIntervalMs !== undefined && { pollIntervalMs: p.pollIntervalMs }),
    ...(p.pollMode !== undefined && { pollMode: p.pollMode }),
  };
  const loc = (key: string | undefined) => (key ? doc.locations?.[key] : undefined);
  const step = p.step;
  if ('backup' in step) {
    if (p.endpoint.product === 'vcenter') {
      const l = loc(step.to)!;
      return {
        workflow: 'vcenterBackupStep',
        input: {
          ...common,
          backup: {
            locationType: l.type,
            location: l.url,
            ...(l.username !== undefined && { locationUser: l.username }),
            ...(l.passwordRef !== undefined && { locationPasswordRef: l.passwordRef }),
            ...(l.encryptionPasswordRef !== undefined && { backupPasswordRef: l.encryptionPasswordRef }),
            comment: `vmware-dr runbook ${doc.name} step ${p.report.id}`,
          },
        },
      };
    }
    return {
      workflow: p.endpoint.product === 'sddc-manager' ? 'sddcManagerBackupStep' : 'vcdaBackupStep',
      input: common,
    };
  }
  if (p.endpoint.product === 'vcenter') {
    const l = loc(step.from)!;
    return {
      workflow: 'vcenterRestoreStep',
      input: {
        ...common,
        restore: {
          locationType: l.type,
          location: archiveLocation,
          ...(l.username !== undefined && { locationUser: l.username }),
          ...(l.passwordRef !== undefined && { locationPasswordRef: l.passwordRef }),
          ...(l.encryptionPasswordRef !== undefined && { backupPasswordRef: l.encryptionPasswordRef }),
          ...(warningsAccepted
            ? { ignoreWarnings: true }
            : step.ignoreWarnings !== undefined && { ignoreWarnings: step.ignoreWarnings }),
        },
      },
    };
  }
  return {
    workflow: 'sddcManagerRestoreStep',
    input: { ...common, restore: { backupFile: step.backupFile, passphraseRef: step.passphraseRef } },
  };
}

/** The error of a failed step, from the failure chain: the innermost application failure's type and message. */
function stepError(err: unknown): { type: string; message: string } {
  let e: unknown = err;
  let last: { type: string; message: string } = {
    type: 'InternalError',
    message: String((err as Error)?.message ?? err),
  };
  for (let depth = 0; e && depth < 6; depth++) {
    if (e instanceof ApplicationFailure) last = { type: e.type ?? 'ApplicationFailure', message: e.message };
    else if (e instanceof TemporalFailure && !(e instanceof ChildWorkflowFailure))
      last = { type: e.name, message: e.message };
    e = (e as { cause?: unknown }).cause;
  }
  return last;
}

/** Runs a runbook document: stages in order, steps of a stage in parallel. Returns the report. */
export async function drRunbook(
  rawDocument: RunbookDocument,
  rawOptions: DrRunbookOptions = {},
): Promise<RunbookReport> {
  return ending(async () => {
    const doc = validateInput('drRunbook', Runbook, rawDocument);
    const options = validateInput('drRunbook options', DrRunbookOptions, rawOptions ?? {});
    const dryRun = options.dryRun === true;
    const approvalTimeoutMs = options.approvalTimeout
      ? parseDuration(options.approvalTimeout)
      : DEFAULT_APPROVAL_TIMEOUT_MS;
    const { stages } = plan(doc);
    const all = stages.flatMap((s) => s.steps);
    const report: RunbookReport = {
      runbook: doc.name,
      ...(doc.site !== undefined && { site: doc.site }),
      workflowId: workflowInfo().workflowId,
      // Never an outcome the run has not reached: `running` until it ends.
      outcome: 'running',
      dryRun,
      startedAt: new Date().toISOString(),
      steps: all.map((p) => p.report),
      compensations: [],
      approvals: [],
    };

    // Messages: progress, approvals, pause/resume. Who sends each, as the server recorded it, first.
    const identities = recordCallerIdentities([pauseSignal.name, resumeSignal.name]);
    // Histories from before quiet history, and before the trust boundary, replay as they ran
    // (see QUIET_HISTORY_PATCH, TRUST_BOUNDARY_PATCH): a quiet run has the trust boundary too.
    const quiet = patched(QUIET_HISTORY_PATCH);
    const trusted = quiet || patched(TRUST_BOUNDARY_PATCH);
    /** The run's search attributes (held until the registered ones are known) and what it waits for. */
    let held: AttributePair[] = [];
    let setAttributes: AttributeWriter = (pairs) => {
      held = [...held.filter((h) => !pairs.some((p) => p.key.name === h.key.name)), ...pairs];
    };
    const waits = new RunWaits({ record: quiet, setAttributes: () => setAttributes });
    /** Who started the run and each step's approval rule: from `checkRunbookPolicy`, before any step. */
    let startedBy: string | undefined;
    let approvalRules: Record<string, ApprovalRule> = {};
    const audit = (entry: NonNullable<RunbookReport['audit']>[number]) => {
      if (trusted) (report.audit ??= []).push(entry);
    };
    const decisions = new Map<
      string,
      {
        decision: 'approved' | 'rejected';
        by: string;
        identity?: string;
        comment?: string;
        acceptWarnings?: boolean;
      }
    >();
    let paused = false;
    setHandler(progressQuery, () => report, {
      description: 'The report so far: each step, what it waits for, approvals, the audit trail.',
    });
    const waiting = (stepId: string): PlannedStep => {
      const p = all.find((x) => x.report.id === stepId);
      if (!p) throw new Error(`no step ${stepId}: steps are ${all.map((x) => x.report.id).join(', ')}`);
      if (p.report.state !== 'waiting-approval')
        throw new Error(`step ${stepId} is ${p.report.state}, not waiting for approval`);
      // Two decisions arriving together: the first accepted one wins, the other is refused.
      const decided = decisions.get(stepId);
      if (decided) throw new Error(`step ${stepId} was already ${decided.decision} by ${decided.by}`);
      return p;
    };
    const checkBy = (by: unknown) => {
      if (typeof by !== 'string' || by.trim() === '' || by.length > 128)
        throw new Error('by: who decides (1–128 characters) is required');
    };
    const decide = (
      step: string,
      d: { decision: 'approved' | 'rejected'; by: string; comment?: string; acceptWarnings?: boolean },
    ) => {
      const identity = identities.currentUpdate();
      decisions.set(step, { ...d, ...(identity !== undefined && { identity }) });
      return { step, state: d.decision };
    };
    setHandler(
      approveUpdate,
      ({ step, by, comment, acceptWarnings }) =>
        decide(step, {
          decision: 'approved',
          by,
          ...(comment !== undefined && { comment }),
          ...(acceptWarnings === true && { acceptWarnings }),
        }),
      {
        description:
          'Approve a step waiting for approval: { step, by, comment?, acceptWarnings? }. Refused (no history) unless the caller is a verified second person the policy and runbook allow, and, for a restore with warnings, accepts them.',
        validator: (req) => {
          checkBy(req?.by);
          const p = waiting(String(req?.step));
          if (req.acceptWarnings !== undefined && typeof req.acceptWarnings !== 'boolean')
            throw new Error('acceptWarnings: true or false (vmware-dr approve --accept-warnings)');
          if (!trusted) {
            // A run from before verified approvals: its starter is unknown, so nobody can be the second person.
            throw new Error(
              approvalRefusal({
                step: p.report.id,
                identity: identities.currentUpdate() ?? '(unknown)',
                startedBy: undefined,
                rule: DEFAULT_APPROVAL_RULE,
              }),
            );
          }
          const refusal = approvalRefusal({
            step: p.report.id,
            identity: identities.currentUpdate(),
            startedBy,
            rule: approvalRules[p.report.id] ?? DEFAULT_APPROVAL_RULE,
            ...(p.approvers !== undefined && { runbookApprovers: p.approvers }),
          });
          if (refusal) throw new Error(refusal);
          if (p.report.acceptWarnings && req.acceptWarnings !== true)
            throw new Error(
              `step ${p.report.id} (restore ${p.report.endpoint}) has restore validation warnings nobody accepted: ${(p.report.warnings ?? []).join('; ')}. The restore would fail on them: approve with --accept-warnings (acceptWarnings: true) to restore despite them, or reject the step`,
            );
        },
      },
    );
    setHandler(rejectUpdate, ({ step, by, reason }) => decide(step, { decision: 'rejected', by, comment: reason }), {
      description:
        'Reject a step waiting for approval: { step, by, reason }. The step does not run; anyone may reject (it stops a change).',
      validator: (req) => {
        checkBy(req?.by);
        if (typeof req?.reason !== 'string' || req.reason.trim() === '')
          throw new Error('reason: why the step is rejected is required');
        waiting(String(req?.step));
      },
    });
    // A running child step says when its appliance is busy (and when it no longer waits): a change
    // of its state. Its job's percent is read from the step on demand (runbookProgress); poll
    // activities of workers from before quiet history still signal it, and it is kept.
    setHandler(
      stepProgressSignal,
      ({ step, attempts, waiting, percent }) => {
        const r = all.find((x) => x.report.id === step)?.report;
        if (!r || r.state !== 'running') return;
        if (typeof percent === 'number') {
          // From the poll activity: the job runs, so the step no longer waits.
          if (Number.isFinite(percent)) r.percent = Math.max(0, Math.min(100, Math.round(percent)));
          delete r.waiting;
          waits.clear(r.id);
          return;
        }
        if (typeof attempts === 'number' && Number.isInteger(attempts) && attempts > 0) r.attempts = attempts;
        if (typeof waiting === 'string') {
          r.waiting = waiting.slice(0, 200);
          waits.busy(r, r.waiting);
        } else {
          delete r.waiting;
          waits.clear(r.id);
        }
      },
      {
        description:
          'From a step workflow of this run (not for people): its start attempts and busy waits, when they change.',
      },
    );
    const pauseOrResume = (event: 'paused' | 'resumed', req: { by?: string } | undefined) => {
      paused = event === 'paused';
      const identity = identities.takeSignal(event === 'paused' ? pauseSignal.name : resumeSignal.name);
      const by = typeof req?.by === 'string' ? req.by.slice(0, 128) : undefined;
      if (paused) waits.paused(by ?? identity);
      else waits.clear('');
      audit({
        at: new Date().toISOString(),
        event,
        ...(by !== undefined && { by }),
        ...(identity !== undefined && { identity }),
      });
    };
    setHandler(pauseSignal, (req) => pauseOrResume('paused', req), {
      description: 'Pause the run before its next stage: { by? }. Steps in flight go on.',
    });
    setHandler(resumeSignal, (req) => pauseOrResume('resumed', req), {
      description: 'Resume a paused run: { by? }.',
    });
    // Who cancelled is in the history (the CLI's report adds it); the run records when and why.
    CancellationScope.current().cancelRequested.catch(() => {
      const reason = identities.cancelReason();
      audit({ at: new Date().toISOString(), event: 'cancel-requested', ...(reason && { detail: reason }) });
    });

    /** Restore steps that take their archive from a recovery point: the backup of the set they restore. */
    const fromRecoveryPoint = new Map<string, { set: string; backup: RecoveryPointBackup }>();

    /** The archive a vCenter restore step points at (read only): by id, the latest, or its recovery point's backup. */
    const findArchive = async (p: PlannedStep) => {
      const step = p.step as RunbookRestoreStep;
      const l = doc.locations?.[step.from as string];
      const rp = fromRecoveryPoint.get(p.report.id);
      const found = await findVcenterArchive({
        endpoint: productEndpoint(p.endpoint) as never,
        location: {
          url: l!.url,
          ...(l!.username !== undefined && { username: l!.username }),
          ...(l!.passwordRef !== undefined && { passwordRef: l!.passwordRef }),
        },
        archive: typeof step.archive === 'string' ? step.archive : 'latest',
        ...(rp?.backup.marker !== undefined && { commentContains: rp.backup.marker }),
        ...(step.systemName !== undefined && { systemName: step.systemName }),
      });
      return {
        ...found,
        note: rp
          ? `archive ${found.location} (recovery point ${rp.set}: backup ${rp.backup.remoteId} of ${rp.backup.endpoint})`
          : `archive ${found.location}`,
      };
    };

    /**
     * Reads each recovery point the restore steps name (once per set) and picks each step's
     * backup: the vCenter backup of `archive.endpoint` (default: the step's endpoint name), which
     * must have gone to the step's `from` location. Returns the refused steps with why.
     */
    async function resolveRecoveryPoints(): Promise<Map<string, { type: string; message: string }>> {
      const refused = new Map<string, { type: string; message: string }>();
      const wanted = all.flatMap((p) => {
        const archive = 'restore' in p.step ? p.step.archive : undefined;
        return typeof archive === 'object' ? [{ p, archive }] : [];
      });
      const sets = new Map<string, RecoveryPointSet | { type: string; message: string }>();
      for (const id of new Set(wanted.map((w) => w.archive.recoveryPoint))) {
        sets.set(
          id,
          await readRecoveryPoint({ workflowId: id }).catch((err: unknown) => {
            if (isCancellation(err)) throw err;
            return stepError(err);
          }),
        );
      }
      const trim = (url: string) => url.replace(/\/+$/, '');
      for (const { p, archive } of wanted) {
        const set = sets.get(archive.recoveryPoint)!;
        if (!('backups' in set)) {
          refused.set(p.report.id, set);
          continue;
        }
        const name = archive.endpoint ?? p.report.endpoint;
        const backup = set.backups.find((b) => b.endpoint === name && b.product === 'vcenter');
        const from = doc.locations?.[(p.step as RunbookRestoreStep).from as string]?.url ?? '';
        const problem = !backup?.marker
          ? `recovery point ${set.workflowId} (runbook ${set.runbook}) has no vCenter backup of ${name}; it holds ${set.backups.map((b) => `${b.endpoint} (${b.product})`).join(', ')}. Fix: set archive.endpoint to the vCenter's endpoint name in that runbook`
          : backup.location !== undefined && trim(backup.location) !== trim(from)
            ? `the backup of ${name} in recovery point ${set.workflowId} went to ${backup.location}, not to ${from} (location ${(p.step as RunbookRestoreStep).from}). Fix: restore from the location the backup went to`
            : undefined;
        if (problem !== undefined) refused.set(p.report.id, { type: 'RecoveryPointUnusable', message: problem });
        else fromRecoveryPoint.set(p.report.id, { set: set.workflowId, backup: backup! });
      }
      return refused;
    }

    /** Steps whose child workflow was started: only those have anything to compensate. */
    const launched = new Set<string>();

    /** Runs one step; never throws: its outcome goes into its report (a cancel included). */
    const runStep = async (p: PlannedStep, stageStart: number, startWithinMs: number | undefined): Promise<void> => {
      try {
        await runStepBody(p, stageStart, startWithinMs);
        delete p.report.waiting;
        waits.clear(p.report.id);
      } catch (err) {
        const r = p.report;
        delete r.waiting;
        waits.clear(r.id);
        r.endedAt = new Date().toISOString();
        const action = `cancel the ${r.product} ${r.action} on ${r.endpoint}`;
        if (isCancellation(err)) {
          // A child in flight was cancelled on its appliance (the poll activity asks the appliance
          // to cancel the job, and the child waits for that): the compensation of a started step.
          // VCDA's API cannot cancel a backup task: said as it is, never as a compensation done.
          if (launched.has(r.id))
            report.compensations.push(
              r.product === 'vcda'
                ? {
                    step: r.id,
                    action: `none possible: VCDA has no API to cancel a backup task; the backup on ${r.endpoint} runs to its end`,
                    outcome: 'not-needed',
                  }
                : { step: r.id, action, outcome: 'done' },
            );
          r.state = 'cancelled';
          return;
        }
        r.state = 'failed';
        r.error = stepError(err);
        // Cancelled, but the child could not stop its job: say so, the job may still run.
        if (CancellationScope.current().consideredCancelled && launched.has(r.id)) {
          report.compensations.push({ step: r.id, action, outcome: 'failed', error: r.error });
        }
      }
    };

    /**
     * A restore's checks before its approval (runs with the trust boundary): the vCenter archive is
     * found once and pinned (the approver approves that archive, not whatever is latest later) and
     * the restore validated; not applicable fails the step, warnings are shown and must be accepted.
     * SDDC Manager has no restore validation API: its restore is checked by the appliance's task.
     */
    const preflightRestore = async (p: PlannedStep): Promise<{ archiveLocation?: string } | undefined> => {
      const r = p.report;
      if (!('restore' in p.step) || p.endpoint.product !== 'vcenter') return {};
      const archive = await findArchive(p);
      r.location = archive.location;
      const { input } = childFor(p, doc, archive.location);
      const v = await validateVcenterRestore({ endpoint: input.endpoint as never, restore: input.restore as never });
      if (!v.applicable) {
        r.state = 'failed';
        r.error = {
          type: 'InvalidArgument',
          message: `the backup cannot be restored onto ${r.endpoint} (restore validation: not applicable${v.messages.length ? `: ${v.messages.join('; ')}` : ''})`,
          hint: 'restore onto a freshly deployed vCenter in the restore stage (before firstboot) with a backup of a matching version',
        };
        return undefined;
      }
      if (v.messages.length) r.warnings = v.messages;
      const ignoreWarnings = (p.step as RunbookRestoreStep).ignoreWarnings === true;
      if (r.warnings && !ignoreWarnings) {
        if (p.needsApproval) r.acceptWarnings = true;
        else {
          r.state = 'failed';
          r.error = {
            type: 'RestoreWarnings',
            message: `restore validation of ${r.endpoint} reported ${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}: ${r.warnings.join('; ')}. The restore would fail on them, so it was not started`,
            hint: `set ignoreWarnings: true on step ${r.id} to restore despite them, or approval: required so that the approver can accept them (vmware-dr approve --accept-warnings)`,
          };
          return undefined;
        }
      }
      return { archiveLocation: archive.location };
    };

    /** Waits for a decision on a step; false when it did not get an approval (rejected or timed out). */
    const awaitApproval = async (p: PlannedStep): Promise<boolean> => {
      const r = p.report;
      r.state = 'waiting-approval';
      const command = approveCommandText(report.workflowId, r.id, r.acceptWarnings === true);
      const rule = approvalRules[r.id] ?? DEFAULT_APPROVAL_RULE;
      const who = [
        rule.fourEyes && startedBy ? `someone other than ${startedBy}` : 'a person',
        ...(rule.approvers ? [`allowed by the policy: ${rule.approvers.join(', ')}`] : []),
        ...(p.approvers ? [`allowed by the runbook: ${p.approvers.join(', ')}`] : []),
      ];
      const warnings = r.warnings?.length
        ? `; ${r.warnings.length} restore warning${r.warnings.length === 1 ? '' : 's'}${r.acceptWarnings ? ' to accept' : ' (accepted by the runbook: ignoreWarnings)'}: ${r.warnings.join('; ')}`
        : '';
      if (trusted) {
        r.waiting = `approval by ${who.join('; ')}${warnings}: ${command}`;
        waits.approval(r, who.join('; '), warnings, command);
      }
      await notify(
        'approval-needed',
        trusted
          ? `${doc.name}: step ${r.id} (${r.action} ${r.endpoint}) waits for approval by ${who.join('; ')}${warnings}: ${command}`
          : `${doc.name}: step ${r.id} (${r.action} ${r.endpoint}) waits for approval: vmware-dr approve ${report.workflowId} --step ${r.id} --by NAME`,
        { step: r.id, ...(r.warnings && { warnings: r.warnings }) },
      );
      const decided = await condition(() => decisions.has(r.id), approvalTimeoutMs, {
        summary: `approval timeout of step ${r.id} (${r.action} ${r.endpoint})`,
      });
      delete r.waiting;
      delete r.acceptWarnings;
      waits.clear(r.id);
      const d = decisions.get(r.id);
      if (!decided || !d) {
        r.state = 'failed';
        r.error = {
          type: 'ApprovalTimeout',
          message: `no approval within ${options.approvalTimeout ?? '24h'}: the step did not start`,
        };
        return false;
      }
      const at = new Date().toISOString();
      const accepted = d.acceptWarnings && r.warnings ? { acceptedWarnings: r.warnings } : {};
      const identity = d.identity !== undefined ? { identity: d.identity } : {};
      r.approval = {
        by: d.by,
        ...identity,
        at,
        decision: d.decision,
        ...(d.comment !== undefined && { comment: d.comment }),
        ...accepted,
      };
      report.approvals.push({ step: r.id, ...r.approval });
      audit({
        at,
        event: d.decision,
        step: r.id,
        by: d.by,
        ...identity,
        ...((d.comment !== undefined || accepted.acceptedWarnings) && {
          detail: [d.comment, accepted.acceptedWarnings && `accepted warnings: ${accepted.acceptedWarnings.join('; ')}`]
            .filter(Boolean)
            .join('; '),
        }),
      });
      if (d.decision === 'rejected') {
        r.state = 'rejected';
        return false;
      }
      return true;
    };

    const runStepBody = async (
      p: PlannedStep,
      stageStart: number,
      startWithinMs: number | undefined,
    ): Promise<void> => {
      const r = p.report;
      if (dryRun) {
        const check = await checkEndpoint({
          product: p.endpoint.product,
          endpoint: productEndpoint(p.endpoint),
        } as never);
        const notes = [...check.checks];
        let archiveLocation: string | undefined;
        if ('restore' in p.step && p.endpoint.product === 'vcenter') {
          const archive = await findArchive(p);
          archiveLocation = archive.location;
          notes.push(archive.note);
        }
        const { workflow, input } = childFor(p, doc, archiveLocation);
        if (workflow === 'vcenterRestoreStep') {
          const v = await validateVcenterRestore({
            endpoint: input.endpoint as never,
            restore: input.restore as never,
          });
          notes.push(
            `restore validation: ${v.applicable ? 'applicable' : 'not applicable'}${v.messages.length ? ` (${v.messages.join('; ')})` : ''}`,
          );
          if (trusted && v.applicable && v.messages.length) {
            r.warnings = v.messages;
            if ((p.step as RunbookRestoreStep).ignoreWarnings !== true)
              notes.push(
                p.needsApproval
                  ? 'the approver must accept the warnings (vmware-dr approve --accept-warnings)'
                  : 'the restore would be refused: set ignoreWarnings: true or approval: required',
              );
          }
        }
        if (workflow === 'vcenterBackupStep') {
          const v = await validateVcenterBackup({ endpoint: input.endpoint as never, backup: input.backup as never });
          notes.push(`backup validation ${v.status}${v.messages.length ? `: ${v.messages.join('; ')}` : ''}`);
        }
        r.state = 'planned';
        r.plan = `${workflow} on ${r.endpoint}${p.needsApproval ? ' after approval' : ''}; checked: ${notes.join(', ')}`;
        return;
      }
      /** Checked before the approval (trust boundary): the archive the approver saw, pinned. */
      let checked: { archiveLocation?: string } | undefined;
      if (trusted && 'restore' in p.step) {
        checked = await preflightRestore(p);
        if (!checked) return;
      }
      if (p.needsApproval && !(await awaitApproval(p))) return;
      if (startWithinMs !== undefined && Date.now() - stageStart > startWithinMs) {
        r.state = 'failed';
        r.error = {
          type: 'StartWindowMissed',
          message: `the stage's startWithin window passed before this step could start`,
        };
        return;
      }
      r.state = 'running';
      r.startedAt = new Date().toISOString();
      {
        let archiveLocation: string | undefined = checked?.archiveLocation;
        if (!checked && 'restore' in p.step && p.endpoint.product === 'vcenter') {
          archiveLocation = (await findArchive(p)).location;
          r.location = archiveLocation;
        }
        const { workflow, input } = childFor(p, doc, archiveLocation, r.approval?.acceptedWarnings !== undefined);
        launched.add(r.id);
        const result = await executeChild<(i: unknown) => Promise<StepResult>>(workflow, {
          args: [input],
          workflowId: `${workflowInfo().workflowId}/${r.id}`,
          staticSummary: `${r.action} ${r.product} ${r.endpoint} (step ${r.id}, stage ${r.stage})`,
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          // The step tells this run its busy waits (signal stepProgress), by this step id.
          memo: { [RUNBOOK_STEP_MEMO]: r.id },
        });
        Object.assign(r, {
          state: 'succeeded',
          remoteId: result.remoteId,
          startedAt: result.startedAt,
          ...(result.endedAt !== undefined && { endedAt: result.endedAt }),
          ...(result.durationMs !== undefined && { durationMs: result.durationMs }),
          ...(result.location !== undefined && { location: result.location }),
          ...(result.sizeBytes !== undefined && { sizeBytes: result.sizeBytes }),
          ...(result.hash !== undefined && { hash: result.hash }),
          attached: result.attached,
        });
      }
    };

    // Visibility (after the message handlers, so a query never finds the run without them): memo (what the run is) and search attributes (kept current).
    upsertMemo({
      runbook: {
        name: doc.name,
        site: doc.site,
        dryRun,
        stages: doc.stages.map((st) => `${st.name} (${st.steps.length} step${st.steps.length === 1 ? '' : 's'})`),
      },
    });
    // A quiet run checks its policy (and learns the registered search attributes) in one local
    // activity, and writes its first search attributes with the first stage's (one event).
    let gate: RunbookPolicyCheck | undefined;
    if (quiet) {
      gate = await checkRunbookPolicyLocally({ document: doc, searchAttributes: true });
      setAttributes = searchAttributeWriter(gate.searchAttributes ?? [], { quiet });
    } else
      setAttributes = searchAttributeWriter(await askRegisteredSearchAttributes().catch(() => [] as string[]), {
        quiet,
      });
    setAttributes(
      [
        { key: SA.runbook, value: doc.name },
        ...(doc.site !== undefined ? [{ key: SA.site, value: doc.site }] : []),
        { key: SA.products, value: [...new Set(all.map((p) => p.endpoint.product))] },
        { key: SA.appliances, value: [...new Set(all.map((p) => p.endpoint.name))] },
        { key: SA.dryRun, value: dryRun },
        { key: SA.outcome, value: 'running' },
        // What a signal before this point said the run waits for (a pause sent with the start).
        ...held,
      ],
      { defer: quiet },
    );

    /** Tells the document's webhooks about an event; never fails the run. */
    const notify = async (event: NotifyEvent, text: string, extra: Record<string, unknown> = {}) => {
      if (!dryRun) await notifyHooks(doc, event, text, { workflowId: report.workflowId, ...extra });
    };

    // The worker's credential policy first (read only, with who started the run): what it refuses
    // fails those steps and stops the run before any connection to an appliance.
    if (trusted) {
      gate ??= await checkRunbookPolicy({ document: doc });
      startedBy = gate.startedBy;
      approvalRules = gate.approvals;
      if (gate.policy) report.policy = gate.policy;
      if (startedBy !== undefined) report.startedBy = startedBy;
      (report.audit ??= []).unshift({
        at: report.startedAt,
        event: 'started',
        ...(startedBy !== undefined && { identity: startedBy }),
      });
      // The policy may require an approval the runbook did not ask for (it refuses `approval: none` too).
      for (const p of all) if (approvalRules[p.report.id]?.required) p.needsApproval = true;
      if (gate.problems.length) {
        report.refused = gate.problems;
        for (const problem of gate.problems)
          for (const id of problem.steps) {
            const r = all.find((p) => p.report.id === id)?.report;
            if (!r) continue;
            r.state = 'failed';
            const message = `${problem.path}: ${problem.message}`;
            r.error = { type: 'NotPermitted', message: r.error ? `${r.error.message}; ${message}` : message };
          }
      }
    }

    // Recovery points next, read only: a set that is unknown, failed or lacks a backup a step
    // restores fails those steps and stops the run before any state-changing call.
    const refused = report.refused?.length ? new Map() : await resolveRecoveryPoints();
    for (const [id, error] of refused) {
      const r = all.find((p) => p.report.id === id)!.report;
      Object.assign(r, { state: 'failed', error });
    }

    let stopped = refused.size > 0 || (report.refused?.length ?? 0) > 0;
    let cancelled = false;
    for (const stage of stages) {
      if (paused) await condition(() => !paused).catch(() => undefined);
      cancelled ||= CancellationScope.current().consideredCancelled;
      if (stopped || cancelled) break;
      setAttributes([{ key: SA.stage, value: stage.name }]);
      waits.setStage(
        `stage ${stages.indexOf(stage) + 1}/${stages.length} ${stage.name}: ${stage.steps.map((p) => `${p.report.action} ${p.report.endpoint}`).join(', ')}`,
      );
      const stageStart = Date.now();
      await Promise.all(stage.steps.map((p) => runStep(p, stageStart, stage.startWithinMs)));
      if (
        stage.steps.some((p) => (p.report.state === 'failed' || p.report.state === 'rejected') && !p.continueOnFailure)
      )
        stopped = true;
    }
    cancelled ||= CancellationScope.current().consideredCancelled;
    // Steps that never started are skipped, whether the run stopped after a failure or was cancelled.
    for (const p of all) if (p.report.state === 'pending') p.report.state = 'skipped';
    report.endedAt = new Date().toISOString();
    report.outcome = overallOutcome(report.steps, { cancelled, dryRun });
    // The backups of this run belong together: one consistent recovery point (SDDC Manager and the vCenters of its window).
    const backups = report.steps.filter(
      (st) => st.action === 'backup' && st.state === 'succeeded' && st.remoteId !== undefined,
    );
    if (backups.length) {
      report.recoveryPoint = {
        takenAt: backups
          .map((st) => st.endedAt ?? report.endedAt!)
          .sort()
          .at(-1)!,
        members: backups.map((st) => ({
          step: st.id,
          endpoint: st.endpoint,
          product: st.product,
          remoteId: st.remoteId!,
          ...(st.location !== undefined && { location: st.location }),
        })),
      };
    }
    waits.end(`ended ${report.outcome}`);
    setAttributes([{ key: SA.outcome, value: report.outcome }]);
    if (report.outcome === 'succeeded')
      await notify('succeeded', `${doc.name}: succeeded (${report.steps.length} steps)`, { outcome: report.outcome });
    else if (report.outcome !== 'dry-run') {
      const failed = report.steps
        .filter((st) => st.state === 'failed')
        .map((st) => `${st.id} ${st.endpoint}: ${st.error?.type}`);
      await notify('failed', `${doc.name}: ${report.outcome}${failed.length ? ` (${failed.join('; ')})` : ''}`, {
        outcome: report.outcome,
      });
    }
    return report;
  });
}
