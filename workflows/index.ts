export { vcenterBackup, type VcenterBackupInput, type VcenterBackupResult } from './vcenter-backup';
