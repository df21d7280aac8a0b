/**
 * vmware-dr-temporal: Temporal activities and workflows that back up and restore a VMware
 * management plane (vCenter, SDDC Manager, VCDA).
 *
 * Host them in your own worker:
 * ```ts
 * import { createActivities, workflowsPath } from 'vmware-dr-temporal';
 * await Worker.create({ taskQueue: 'vmware-dr', workflowsPath, activities: createActivities({}) });
 * ```
 */
export { createActivities, type Activities, type ActivitiesOptions } from '../activities';
export type {
  CancelVcenterJobInput,
  PollVcenterBackupInput,
  PollVcenterRestoreInput,
  SetVcenterScheduleInput,
  SetVcenterScheduleResult,
  StartVcenterBackupInput,
  StartVcenterRestoreInput,
  ValidateVcenterBackupInput,
  ValidateVcenterRestoreInput,
  VcenterBackupJobResult,
  VcenterBackupVerification,
  VcenterJobRef,
  VcenterPollDetails,
  VcenterRestoreRef,
  VcenterRestoreResult,
  VcenterRestoreSpec,
  VcenterRestoreValidation,
  VcenterReturnResult,
  VcenterScheduleSpec,
  VerifyVcenterBackupInput,
  createVcenterActivities,
  stepMarker,
} from '../activities/vcenter';
export type {
  CancelSddcTaskResult,
  PollSddcTaskInput,
  SDDC_BACKUP_TASK_TYPE,
  SDDC_RESTORE_TASK_TYPE,
  SddcBackupConfigurationSpec,
  SddcTaskActionInput,
  SddcTaskRef,
  SddcTaskResult,
  SddcTaskVerification,
  SetSddcBackupConfigurationInput,
  StartSddcManagerBackupInput,
  StartSddcManagerRestoreInput,
  VerifySddcTaskInput,
  createSddcManagerActivities,
  sftpLocationUrl,
} from '../activities/sddc-manager';
export type {
  PollVcdaTaskInput,
  StartVcdaBackupInput,
  VcdaBackupResult,
  VcdaTaskRef,
  createVcdaActivities,
} from '../activities/vcda';
export type { StepRef } from '../activities/step';
export { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS } from '../activities/options';
export { createWorker, DEFAULT_TASK_QUEUE, workflowsPath, type CreateWorkerOptions } from '../worker';
export {
  runbookNexusServiceHandler,
  checkRunRunbookInput,
  runbookNexusWorkflowId,
  type RunbookNexusHandlerOptions,
} from '../worker/nexus';
export type {
  VcenterBackupResult,
  SddcManagerBackupResult,
  VcdaBackupWorkflowResult,
  ApplianceLeaseState,
  LeaseRequest,
} from '../workflows';
export type { Product } from './contract/names';
export {
  AuthenticationFailed,
  BackupHashMismatch,
  ERROR_CLASSES,
  ERROR_TYPES,
  InvalidArgument,
  NON_APPLIANCE_FAILURE_TYPES,
  NON_RETRYABLE_ERROR_TYPES,
  NetworkError,
  NotFound,
  NotPermitted,
  PermissionDenied,
  ProtocolError,
  RemoteJobFailed,
  RequestTimeout,
  ResourceBusy,
  SchemaMismatch,
  ServerError,
  ServiceUnavailable,
  StartOutcomeUnknown,
  TlsError,
  UnknownRemoteState,
  VmwareApiError,
  WrongState,
  FAILURE_TYPES,
  INVALID_INPUT_TYPE,
  CONFIGURATION_ERROR_TYPE,
  INTERNAL_ERROR_TYPE,
  NOTIFICATION_FAILED_TYPE,
  COMPENSATION_FAILED_TYPE,
  RECOVERY_POINT_UNUSABLE_TYPE,
  APPROVAL_TIMEOUT_TYPE,
  START_WINDOW_MISSED_TYPE,
  RESTORE_WARNINGS_TYPE,
  type FailureType,
  type FailureTypeInfo,
  type OtherFailureType,
  type Retryability,
  type ErrorContext,
  type ErrorType,
  type NonApplianceFailureType,
} from './core/errors';
export {
  DEFAULT_AMBIGUOUS_MAX_ATTEMPTS,
  DEFAULT_BUSY_RETRY_DELAY_MS,
  retryDecision,
  type RetryDecision,
  type RetryTuning,
  type StepClock,
} from './core/retry';
export { errorFromTransport, isAbortError } from './core/classify';
export { errorFromResponse } from '../activities/classify';
export { normaliseVapiErrorType } from './vcenter/errors';
export {
  CredentialPolicy,
  PolicyFileError,
  POLICY_API_VERSION,
  POLICY_KIND,
  SECRET_PURPOSES,
  WorkerPolicy,
  policyForRunbooks,
  policyFieldReference,
  realpathInside,
  type ApplianceRule,
  type ApprovalRule,
  type PolicyEndpoint,
  type PolicyProblem,
  type PolicyAction,
  type SecretPurpose,
  type WorkerPolicyDocument,
  type PolicyForRunbooksOptions,
  type GeneratedPolicy,
} from './core/policy/index';
export type { CheckRunbookPolicyInput, RunbookPolicyCheck } from '../activities/policy';
export {
  createSecretResolver,
  Secret,
  SecretReferenceError,
  type SecretRef,
  type SecretResolver,
  type SecretResolverOptions,
} from './core/secrets';
export {
  VcenterEndpoint,
  SddcManagerEndpoint,
  VcdaEndpoint,
  TlsSettings,
  endpointName,
  looksLikeSecretRef,
  DEFAULT_STEP_TIMEOUT_MS,
} from './contract/endpoints';
export {
  VcenterBackupInput,
  SddcManagerBackupInput,
  VcdaBackupInput,
  VcenterBackupSpec,
  checkInput,
  MAX_INPUT_BYTES,
  type CheckInputOptions,
  type InputCheck,
  type InputOrigin,
  type InputProblem,
} from './contract/inputs';
export {
  StepId,
  VcenterBackupStepInput,
  VcenterRestoreStepInput,
  VcenterRestoreStepSpec,
  SddcManagerBackupStepInput,
  SddcManagerRestoreStepInput,
  VcdaBackupStepInput,
} from './contract/step-inputs';
export type { StepResult, StepProduct, StepAction } from './contract/results';
export { VcenterClient } from './vcenter/client';
export type { VcenterClientOptions } from './vcenter/wire';
export { SddcManagerClient, type SddcManagerClientOptions } from './sddc-manager/client';
export { VcdaClient, type VcdaClientOptions } from './vcda/client';
export { startSimulator, type Simulator, type SimulatorOptions, type SimulatorInfo } from './simulator/server';
export { SEARCH_ATTRIBUTES } from './contract/visibility';
export {
  Runbook,
  RUNBOOK_API_VERSION,
  NOTIFY_EVENTS,
  runbookJsonSchema,
  DrRunbookOptions,
  type RunbookDocument,
  type RunbookStep,
  type RunbookEndpoint,
  type RunbookLocation,
  type NotifyEvent,
} from './contract/runbook/document';
export { formatDuration, parseDuration } from './contract/duration';
export {
  RUNBOOK_STEP_MEMO,
  STEP_PROGRESS_SIGNAL,
  escapeCell,
  formatBytes,
  outcomeWord,
  overallOutcome,
  renderReportMarkdown,
  type ApprovalReport,
  type AuditEntry,
  type CompensationReport,
  type FinalOutcome,
  type PolicyRefusal,
  type RecoveryPoint,
  type ReportProduct,
  type RunbookOutcome,
  type RunbookReport,
  type StepReport,
  type StepState,
} from './contract/runbook/report';
export {
  progressQuery,
  approveUpdate,
  rejectUpdate,
  pauseSignal,
  resumeSignal,
  type ApproveRequest,
  type RejectRequest,
  RUNBOOK_WORKFLOW_TYPE,
} from './contract/messages';
export { runbookProgress, stepLiveState, type StepLiveState } from './client/live-progress';
export {
  runbookClient,
  type RunbookClient,
  type RunbookClientOptions,
  type RunbookRun,
  type StartedRunbookRun,
  type StartRunbookOptions,
  type StepDecision,
} from './client/runbook';
export { runbookNexusService, RUNBOOK_NEXUS_SERVICE, RunRunbookEnvelope, type RunRunbookInput } from './nexus/service';
export {
  createRunbookSchedule,
  createFreshnessSchedule,
  runbookSchedule,
  InvalidScheduleOptions,
  DEFAULT_SCHEDULE_CATCHUP_WINDOW,
  DEFAULT_SCHEDULE_JITTER,
  type ScheduleTimingOptions,
  type RunbookScheduleOptions,
  type FreshnessScheduleOptions,
  type CompiledScheduleTiming,
  type RunbookScheduleHandle,
  type RunbookScheduleState,
} from './client/schedules';
export {
  FreshnessOptions,
  DEFAULT_FRESHNESS_MAX_AGE,
  compileFreshnessSlo,
  rateFreshness,
  worstRating,
  type FreshnessRating,
  type FreshnessSlo,
  type FreshnessResult,
  type EndpointFreshness,
  type LastBackupReading,
  type BackupAttempt,
} from './contract/freshness';
export {
  AesGcmCodec,
  CodecKeyError,
  CodecKeyring,
  PayloadDecryptionError,
  dataConverterFromEnv,
  encryptingDataConverter,
  loadCodecKeys,
  parseCodecKeys,
  startCodecServer,
} from './codec';
