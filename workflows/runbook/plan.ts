/**
 * A runbook's plan: its stages of steps, each step with its report entry, endpoint and options
 * (defaults applied), and the child step workflow each one runs as, typed on the step workflows.
 */
import { type ChildWorkflowOptions, executeChild } from '@temporalio/workflow';
import type { CheckEndpointInput } from '../../activities';
import {
  type RunbookDocument,
  type RunbookEndpoint,
  type RunbookRestoreStep,
  type RunbookStep,
} from '../../src/contract/runbook/document';
import { parseDuration } from '../../src/contract/duration';
import type { StepReport } from '../../src/contract/runbook/report';
import type { StepResult } from '../../src/contract/results';
import type {
  SddcManagerBackupStepInput,
  SddcManagerRestoreStepInput,
  VcdaBackupStepInput,
  VcenterBackupStepInput,
  VcenterRestoreStepInput,
} from '../../src/contract/step-inputs';
import type { sddcManagerBackupStep, sddcManagerRestoreStep } from '../sddc-manager-steps';
import type { vcdaBackupStep } from '../vcda-steps';
import type { vcenterBackupStep, vcenterRestoreStep } from '../vcenter-steps';

const DEFAULT_STEP_TIMEOUT = '6h';

/** A step's endpoint: the document's entry, named by its key. */
export type PlannedEndpoint = RunbookEndpoint & { name: string };

/** What a step runs as: the child workflow and its input. */
export interface PlannedStep {
  report: StepReport;
  step: RunbookStep;
  endpoint: PlannedEndpoint;
  needsApproval: boolean;
  /** The runbook's own `approvers` of the step (narrow the policy's). */
  approvers?: string[];
  continueOnFailure: boolean;
  timeoutMs: number;
  pollIntervalMs?: number;
  pollMode?: 'heartbeat' | 'retry';
}

export interface PlannedStage {
  name: string;
  startWithinMs?: number;
  steps: PlannedStep[];
}

/** The child step workflow of a step and its input: one of the step workflows, by its workflow type. */
export type StepChild =
  | { workflow: 'vcenterBackupStep'; input: VcenterBackupStepInput }
  | { workflow: 'vcenterRestoreStep'; input: VcenterRestoreStepInput }
  | { workflow: 'sddcManagerBackupStep'; input: SddcManagerBackupStepInput }
  | { workflow: 'sddcManagerRestoreStep'; input: SddcManagerRestoreStepInput }
  | { workflow: 'vcdaBackupStep'; input: VcdaBackupStepInput };

/** A vCenter restore step: the one that finds its archive first (by id, the latest, or its recovery point's). */
export type VcenterRestore = PlannedStep & {
  step: RunbookRestoreStep;
  endpoint: Extract<PlannedEndpoint, { product: 'vcenter' }>;
};

export function isVcenterRestore(p: PlannedStep): p is VcenterRestore {
  return 'restore' in p.step && p.endpoint.product === 'vcenter';
}

/** The endpoint as the product's step workflows take it (the runbook key is its name). */
export function productEndpoint<E extends PlannedEndpoint>(e: E): Omit<E, 'product'> {
  const { product: _product, ...rest } = e;
  return rest;
}

/** The input of the read-only `checkEndpoint` activity for a step's endpoint. */
export function endpointCheck(e: PlannedEndpoint): CheckEndpointInput {
  switch (e.product) {
    case 'vcenter':
      return { product: e.product, endpoint: productEndpoint(e) };
    case 'sddc-manager':
      return { product: e.product, endpoint: productEndpoint(e) };
    case 'vcda':
      return { product: e.product, endpoint: productEndpoint(e) };
  }
}

export function plan(doc: RunbookDocument): { stages: PlannedStage[] } {
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

/** What every step workflow's input carries: the endpoint, the step's id and deadline, how it polls. */
function stepFields<E>(p: PlannedStep, endpoint: E) {
  return {
    endpoint,
    timeoutMs: p.timeoutMs,
    stepId: `${p.report.stage}/${p.report.id}`,
    ...(p.pollIntervalMs !== undefined && { pollIntervalMs: p.pollIntervalMs }),
    ...(p.pollMode !== undefined && { pollMode: p.pollMode }),
  };
}

/**
 * The child workflow and input for a step (after a vCenter restore's archive is resolved:
 * `archiveLocation`, always given for a vCenter restore).
 */
export function childFor(
  p: PlannedStep,
  doc: RunbookDocument,
  archiveLocation?: string,
  warningsAccepted = false,
): StepChild {
  const loc = (key: string | undefined) => (key ? doc.locations?.[key] : undefined);
  const { step, endpoint } = p;
  if ('backup' in step) {
    switch (endpoint.product) {
      case 'vcenter': {
        const l = loc(step.to)!;
        return {
          workflow: 'vcenterBackupStep',
          input: {
            ...stepFields(p, productEndpoint(endpoint)),
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
      case 'sddc-manager':
        return { workflow: 'sddcManagerBackupStep', input: stepFields(p, productEndpoint(endpoint)) };
      case 'vcda':
        return { workflow: 'vcdaBackupStep', input: stepFields(p, productEndpoint(endpoint)) };
    }
  }
  if (isVcenterRestore(p)) return vcenterRestoreChild(p, doc, archiveLocation!, warningsAccepted);
  if (endpoint.product === 'sddc-manager')
    return {
      workflow: 'sddcManagerRestoreStep',
      input: {
        ...stepFields(p, productEndpoint(endpoint)),
        restore: { backupFile: step.backupFile!, passphraseRef: step.passphraseRef! },
      },
    };
  // The document refuses it (CAPABILITIES): VCDA has no restore step.
  throw new Error(`step ${p.report.id}: ${endpoint.product} cannot be restored by a runbook`);
}

/** The child of a vCenter restore step, onto its archive (`archiveLocation`, found first). */
export function vcenterRestoreChild(
  p: VcenterRestore,
  doc: RunbookDocument,
  archiveLocation: string,
  warningsAccepted = false,
): Extract<StepChild, { workflow: 'vcenterRestoreStep' }> {
  const step = p.step;
  const l = (step.from ? doc.locations?.[step.from] : undefined)!;
  return {
    workflow: 'vcenterRestoreStep',
    input: {
      ...stepFields(p, productEndpoint(p.endpoint)),
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

/** Runs a step's child workflow, started by its workflow type with its typed input, to its result. */
export function executeStep(child: StepChild, options: Omit<ChildWorkflowOptions, 'args'>): Promise<StepResult> {
  switch (child.workflow) {
    case 'vcenterBackupStep':
      return executeChild<typeof vcenterBackupStep>(child.workflow, { args: [child.input], ...options });
    case 'vcenterRestoreStep':
      return executeChild<typeof vcenterRestoreStep>(child.workflow, { args: [child.input], ...options });
    case 'sddcManagerBackupStep':
      return executeChild<typeof sddcManagerBackupStep>(child.workflow, { args: [child.input], ...options });
    case 'sddcManagerRestoreStep':
      return executeChild<typeof sddcManagerRestoreStep>(child.workflow, { args: [child.input], ...options });
    case 'vcdaBackupStep':
      return executeChild<typeof vcdaBackupStep>(child.workflow, { args: [child.input], ...options });
  }
}
