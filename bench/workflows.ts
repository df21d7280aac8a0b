/** The benchmark's workflow bundle: every workflow of the package, plus the naive polling loop. */
export * from '../workflows';
export { naivePollBackup } from './naive-workflow';
