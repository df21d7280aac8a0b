/**
 * What a rehearsal watches while its run goes on: approvals to grant (as `approveAs`, through the
 * run handle's `approve` Update) or to announce with the command a person types, and retries to
 * show, each failure the rehearsal itself caused (an injected fault, a simulated vCenter's
 * services restart) said to be so.
 */
import { Client } from '@temporalio/client';
import { type RunbookRun, runbookClient } from '../client/runbook';
import type { Simulator } from '../simulator/server';
import type { FaultRule } from '../simulator/types';
import { faultText } from './plan';

/** How often the rehearsal looks at the run (approvals to grant, retries to show). */
const MONITOR_INTERVAL_MS = 250;

/** What the simulated services restart of a vCenter restore looks like to a step (503, a dropped connection). */
const RESTART_FAILURE =
  /503|SERVICE_UNAVAILABLE|ServiceUnavailable|NetworkError|content-length|socket|closed|ECONNRESET/i;

/**
 * Which failures of a step the rehearsal itself caused, so they are announced as such and not
 * mistaken for the site's (a "check that the appliance address is reachable" hint is about a real
 * network): the fault rules it was given, once they have fired on the step's appliance and
 * operation, and the services restart a simulated vCenter goes through during a restore.
 */
export function injectedCause(
  sim: Simulator,
  faults: readonly FaultRule[],
  restored: ReadonlySet<string>,
): (endpoint: string, failure?: string) => string | undefined {
  const key = (f: FaultRule) => JSON.stringify([f.product, f.appliance, f.operation, f.action]);
  return (endpoint, failure) => {
    // Failure messages start `<product> <appliance> <operation>:` (src/core/errors.ts).
    const operation = failure ? /^\S+ \S+ (\w+):/.exec(failure)?.[1] : undefined;
    // A rule has fired once the simulator's book no longer holds it untouched (it drops spent rules).
    const armed = sim.faults.list();
    const fired = faults.find(
      (f) =>
        (f.appliance === undefined || f.appliance === endpoint) &&
        (operation === undefined || f.operation === '*' || f.operation === operation) &&
        !armed.some((r) => key(r) === key(f) && r.remaining === (f.count ?? 1)),
    );
    if (fired) return `injected by the rehearsal: ${faultText(fired)}`;
    if (restored.has(endpoint) && failure !== undefined && RESTART_FAILURE.test(failure))
      return 'simulated by the rehearsal: the vCenter restarts its services during a restore (503 answers, dropped connections), as a real one does';
    return undefined;
  };
}

/** Approvals to grant (or announce) and retries to show while the run goes on. */
export function monitor(
  run: RunbookRun,
  client: Client,
  opts: {
    approveAs?: string;
    acceptWarnings?: boolean;
    log: (line: string) => void;
    /** The command a person types to approve a step (with `--accept-warnings` when it needs them). */
    approveCommand: (step: string, by?: string, acceptWarnings?: boolean) => string;
    /** Says when a step's failure is one the rehearsal injected. */
    injected: (endpoint: string, failure?: string) => string | undefined;
  },
): { stop: () => Promise<void> } {
  // The approver is another person than the rehearsal that started the run: a client of its own.
  const approver =
    opts.approveAs === undefined
      ? undefined
      : runbookClient(
          new Client({
            connection: client.connection,
            namespace: client.options.namespace,
            identity: opts.approveAs,
            dataConverter: client.options.dataConverter,
          }),
        ).get(run.workflowId);
  let stopped = false;
  const announced = new Set<string>();
  const retries = new Set<string>();
  const loop = (async () => {
    while (!stopped) {
      const report = await run.progress({ livePercent: false }).catch(() => undefined);
      for (const s of report?.steps ?? []) {
        if (s.state === 'waiting-approval' && !announced.has(s.id)) {
          announced.add(s.id);
          if (approver === undefined || opts.approveAs === undefined) {
            opts.log(
              `step ${s.id} (${s.action} ${s.endpoint}) waits for approval: ${opts.approveCommand(s.id, undefined, s.acceptWarnings === true)}`,
            );
            continue;
          }
          opts.log(`step ${s.id} (${s.action} ${s.endpoint}) waits for approval; approving as ${opts.approveAs}`);
          await approver
            .approve({
              step: s.id,
              by: opts.approveAs,
              comment: 'approved when requested (rehearsal)',
              ...(opts.acceptWarnings === true && { acceptWarnings: true }),
            })
            .catch((err: unknown) => opts.log(`approval of step ${s.id} refused: ${(err as Error).message}`));
        }
        // A busy appliance: the step waits it out with a timer and says so in the progress report.
        if (s.state === 'running' && s.waiting !== undefined && !retries.has(`${s.id}/${s.waiting}`)) {
          retries.add(`${s.id}/${s.waiting}`);
          const injected = opts.injected(s.endpoint);
          opts.log(`step ${s.id} ${s.endpoint}: waiting: ${s.waiting}${injected ? ` (${injected})` : ''}`);
        }
        if (s.state === 'running') {
          for (const a of await run.stepActivities(s.id)) {
            const key = `${s.id}/${a.activityId}/${a.attempt}`;
            if (a.attempt > 1 && !retries.has(key)) {
              retries.add(key);
              const why = (a.lastFailure?.message ?? 'a retryable failure').split('\n')[0]!;
              const injected = opts.injected(s.endpoint, why);
              opts.log(
                `step ${s.id} ${s.endpoint}: ${a.type} attempt ${a.attempt} after: ${injected ? `${injected}: ` : ''}${why}`,
              );
            }
          }
        }
      }
      await new Promise((r) => setTimeout(r, MONITOR_INTERVAL_MS));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop.catch(() => undefined);
    },
  };
}
