export { vcenterBackup, type VcenterBackupInput, type VcenterBackupResult } from './vcenter-backup';
export { sddcManagerBackup, type SddcManagerBackupInput, type SddcManagerBackupResult } from './sddc-manager-backup';
export { vcdaBackup, type VcdaBackupInput, type VcdaBackupWorkflowResult } from './vcda-backup';
export { applianceLease, type ApplianceLeaseState, type LeaseRequest } from './lease';
