export { vcenterBackup, type VcenterBackupInput, type VcenterBackupResult } from './vcenter-backup';
export { sddcManagerBackup, type SddcManagerBackupInput, type SddcManagerBackupResult } from './sddc-manager-backup';
export { vcdaBackup, type VcdaBackupInput, type VcdaBackupWorkflowResult } from './vcda-backup';
export {
  vcenterBackupStep,
  vcenterRestoreStep,
  type VcenterBackupStepInput,
  type VcenterRestoreStepInput,
} from './vcenter-steps';
export {
  sddcManagerBackupStep,
  sddcManagerRestoreStep,
  type SddcManagerBackupStepInput,
  type SddcManagerRestoreStepInput,
} from './sddc-manager-steps';
export { vcdaBackupStep, type VcdaBackupStepInput } from './vcda-steps';
export type { StepResult, StepProduct, StepAction } from '../src/contract/results';
export { applianceLease, type ApplianceLeaseState, type LeaseRequest } from './lease';
export { drRunbook, DrRunbookOptions } from './runbook';
// A helper parent workflows call (also registered as a workflow type, as every exported function
// here is; it works as one). `runbookChildWorkflowId` stays in ./run-runbook for that reason.
export { executeRunbook, type ExecuteRunbookChildOptions } from './run-runbook';
// Message definitions by name: an `export *` would register any function added there as a workflow type.
export {
  approveUpdate,
  pauseSignal,
  progressQuery,
  rejectUpdate,
  resumeSignal,
  stepProgressSignal,
  RUNBOOK_STEP_MEMO,
  type ApproveRequest,
  type RejectRequest,
  type StepProgress,
} from '../src/contract/messages';
export { freshness, FreshnessOptions, type FreshnessResult } from './freshness';
