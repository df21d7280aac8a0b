/**
 * What an operator sees of a `drRunbook` run without querying it: its search attributes (the
 * list's columns and saved views), the `waitingFor` memo entry (what the run waits for, in words)
 * and its Current Details in the Temporal UI (the running stage, then every step that waits: for
 * an approval, with the command that gives it, or for a busy appliance, with the attempt).
 *
 * Search attributes and memo entries are history events: they are written once per change of
 * what they say, never per poll. Current Details are not history (the UI reads them by a query).
 */
import { log, setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { SearchAttributeType, type SearchAttributeUpdatePair, defineSearchAttributeKey } from '@temporalio/common';
import type { StepReport } from '../../src/contract/runbook/report';

export const SA = {
  runbook: defineSearchAttributeKey('VmwareDrRunbook', SearchAttributeType.KEYWORD),
  site: defineSearchAttributeKey('VmwareDrSite', SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey('VmwareDrStage', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('VmwareDrOutcome', SearchAttributeType.KEYWORD),
  products: defineSearchAttributeKey('VmwareDrProduct', SearchAttributeType.KEYWORD_LIST),
  appliances: defineSearchAttributeKey('VmwareDrAppliance', SearchAttributeType.KEYWORD_LIST),
  dryRun: defineSearchAttributeKey('VmwareDrDryRun', SearchAttributeType.BOOL),
  waitingFor: defineSearchAttributeKey('VmwareDrWaitingFor', SearchAttributeType.KEYWORD),
};

/** The search attributes a run had before `VmwareDrWaitingFor` (older runs warn only of these). */
const FIRST_ATTRIBUTES = [SA.runbook, SA.site, SA.stage, SA.outcome, SA.products, SA.appliances, SA.dryRun];

/** One search attribute's new value (`null` removes it). */
export type AttributePair = SearchAttributeUpdatePair;

/** Writes search attributes; a writer that defers holds its pairs until the next call (one event for both). */
export type AttributeWriter = (pairs: AttributePair[], opts?: { defer?: boolean }) => void;

/**
 * A writer of the run's search attributes, only those the namespace has registered (`registered`,
 * asked once by an activity): a namespace without them runs the runbook all the same, with one
 * warning. Pairs written with `defer` go out with the next write, in one upsert event.
 */
export function searchAttributeWriter(registered: Iterable<string>, opts: { quiet: boolean }): AttributeWriter {
  const known = new Set(registered);
  const wanted = opts.quiet ? Object.values(SA) : FIRST_ATTRIBUTES;
  const missing = wanted.map((k) => k.name).filter((n) => !known.has(n));
  if (missing.length) log.warn(`search attributes not registered in this namespace, not set: ${missing.join(', ')}`);
  let deferred: AttributePair[] = [];
  return (pairs, { defer = false } = {}) => {
    const all = [...deferred.filter((d) => !pairs.some((p) => p.key.name === d.key.name)), ...pairs];
    if (defer) {
      deferred = all;
      return;
    }
    deferred = [];
    const write = all.filter((p) => known.has(p.key.name));
    if (write.length) upsertSearchAttributes(write);
  };
}

/** A wait the run shows: an approval or a resume (a person), or a busy appliance. */
interface StepWait {
  kind: 'approval' | 'resume' | 'busy-appliance';
  /** One line for the memo and the list of waits, e.g. `step 1.1 (restore vc-mgmt): approval by …`. */
  text: string;
  /** Lines for Current Details (an approval adds the command that gives it). */
  details: string;
}

/**
 * The waits of a run's steps, shown in its Current Details (always, not history) and, in runs
 * with quiet history, in its memo (`waitingFor`) and search attribute `VmwareDrWaitingFor`
 * (`approval` while a step waits for an approval, else `resume` while the run is paused, else
 * `busy-appliance`; removed when nothing waits), each written only when what it says changes.
 */
export class RunWaits {
  private stage = '';
  private readonly waits = new Map<string, StepWait>();
  private memo: string | undefined;
  private attribute: string | null = null;

  constructor(
    private readonly o: {
      /** Write the memo and search attribute (runs with quiet history only: they are history events). */
      record: boolean;
      setAttributes: () => AttributeWriter;
    },
  ) {}

  /** The running stage (first line of Current Details). */
  setStage(text: string): void {
    this.stage = text;
    this.show();
  }

  /**
   * A step waits for an approval: `who` may approve in words, `warnings` its restore warnings in
   * words (Current Details only; the memo stays one short line), `command` the one that approves it.
   */
  approval(step: StepReport, who: string, warnings: string, command: string): void {
    this.waits.set(step.id, {
      kind: 'approval',
      text: `step ${step.id} (${step.action} ${step.endpoint}): approval by ${who}`,
      details: `waiting for approval of step ${step.id} (${step.action} ${step.endpoint}) by ${who}${warnings}\n\n\`${command}\``,
    });
    this.show();
  }

  /** A running step waits out a busy appliance (`waiting`: e.g. `appliance busy (attempt 2)`). */
  busy(step: StepReport, waiting: string): void {
    const line = `step ${step.id} (${step.action} ${step.endpoint}): waiting: ${waiting}`;
    this.waits.set(step.id, {
      kind: 'busy-appliance',
      // The memo says that it waits, not each attempt (one memo change per wait, not per busy answer).
      text: `step ${step.id} (${step.action} ${step.endpoint}): appliance busy`,
      details: line,
    });
    this.show();
  }

  /** The run is paused (`by`: who said so): its next stage waits for a resume signal. */
  paused(by: string | undefined): void {
    this.waits.set('', {
      kind: 'resume',
      text: `resume (paused${by ? ` by ${by}` : ''})`,
      details: `paused${by ? ` by ${by}` : ''}: the next stage starts after a resume signal`,
    });
    this.show();
  }

  /** The step waits no more (`''`: the run is no longer paused). */
  clear(stepId: string): void {
    if (this.waits.delete(stepId)) this.show();
  }

  /**
   * The run ends: it waits for nothing (a pause or a wait left by a stopped run is over). The
   * search attribute's removal goes out with the run's next write (its outcome), in one event.
   */
  end(summary: string): void {
    this.waits.clear();
    this.stage = summary;
    this.show({ defer: true });
  }

  private show(opts: { defer?: boolean } = {}): void {
    const waits = [...this.waits.values()];
    setCurrentDetails([this.stage, ...waits.map((w) => w.details)].filter(Boolean).join('\n\n'));
    if (!this.o.record) return;
    const memo = waits.length ? waits.map((w) => w.text).join('; ') : undefined;
    if (memo !== this.memo) {
      this.memo = memo;
      upsertMemo({ waitingFor: memo });
    }
    const attribute =
      (['approval', 'resume', 'busy-appliance'] as const).find((k) => waits.some((w) => w.kind === k)) ?? null;
    if (attribute !== this.attribute) {
      this.attribute = attribute;
      this.o.setAttributes()([{ key: SA.waitingFor, value: attribute }], opts);
    }
  }
}
