/**
 * Custom search attributes this project sets on its workflows. Pure data: safe to import from
 * workflow code. Test servers and `vmware-dr temporal` register exactly these.
 */
export const SEARCH_ATTRIBUTES = {
  /** Name of the runbook (or single-product workflow) that started the run. */
  VmwareDrRunbook: 'Keyword',
  /** Products a run touches: `vcenter`, `sddc-manager`, `vcda`. */
  VmwareDrProduct: 'KeywordList',
  /** Appliance names (never credentials) a run touches. */
  VmwareDrAppliance: 'KeywordList',
  /** True when the run only validates and changes nothing. */
  VmwareDrDryRun: 'Bool',
  /** The runbook's site. */
  VmwareDrSite: 'Keyword',
  /** The stage a runbook is in (its name), kept current. */
  VmwareDrStage: 'Keyword',
  /** A runbook's outcome once it ends: succeeded, partial, failed, cancelled, rejected, dry-run; `running` before. */
  VmwareDrOutcome: 'Keyword',
  /**
   * What a running runbook waits for, while it waits: `approval` (a person: a step waits for
   * `vmware-dr approve`), else `busy-appliance`; absent when it waits for nothing.
   */
  VmwareDrWaitingFor: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;
export type SearchAttributeKind = (typeof SEARCH_ATTRIBUTES)[SearchAttributeName];
