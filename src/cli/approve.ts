/**
 * `vmware-dr approve` and `vmware-dr reject`: a decision on a runbook step waiting for approval,
 * sent as the workflow's `approve` / `reject` Update by the run handle (src/client/runbook.ts).
 * The workflow's validator refuses an unknown step, a step not waiting, or one already decided,
 * without writing history (https://docs.temporal.io/handling-messages#update-validators); that
 * refusal exits 2 with its message.
 */
import type { Command } from 'commander';
import type { RunbookRun, StepDecision } from '../client/runbook';
import {
  type ConnectionFlags,
  IDENTITY_VARIABLE,
  cliIdentity,
  findRunbookRun,
  temporalClient,
  withClient,
  withConnectionOptions,
} from './connect';
import { type CliIo, CliError, EXIT, printJson } from './exit';
import { unreadableOf } from './readable';

interface DecisionFlags extends ConnectionFlags {
  step: string;
  by: string;
  comment?: string;
  reason?: string;
  acceptWarnings?: boolean;
  json?: boolean;
}

/** Sends one decision; a validator's refusal becomes exit 2 with the workflow's own message. */
async function decide(handle: RunbookRun, decision: 'approve' | 'reject', flags: DecisionFlags): Promise<StepDecision> {
  const { WorkflowUpdateFailedError } = temporalClient();
  try {
    return decision === 'approve'
      ? await handle.approve({
          step: flags.step,
          by: flags.by,
          ...(flags.comment !== undefined && { comment: flags.comment }),
          ...(flags.acceptWarnings === true && { acceptWarnings: true }),
        })
      : await handle.reject({ step: flags.step, by: flags.by, reason: flags.reason ?? '' });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw new CliError(
        `${decision} refused by run ${handle.workflowId}: ${err.cause?.message ?? err.message} (vmware-dr status ${handle.workflowId} shows the steps waiting)`,
        EXIT.INVALID,
      );
    throw err;
  }
}

function registerDecision(program: Command, io: CliIo, decision: 'approve' | 'reject'): void {
  const cmd = program
    .command(decision)
    .argument('<id>', 'workflow id of the runbook run')
    .requiredOption('--step <step>', 'the step waiting for approval, e.g. 1.1 (vmware-dr status <id> lists them)')
    .requiredOption(
      '--by <name>',
      `who decides (recorded in the report beside your client identity, ${IDENTITY_VARIABLE} or user@host, which four eyes compare)`,
    )
    .option('--json', 'print the result as JSON');
  if (decision === 'approve')
    cmd
      .option('--comment <text>', 'why, e.g. a change number (recorded in the report)')
      .option(
        '--accept-warnings',
        'accept the restore validation warnings the step shows (vmware-dr status lists them); needed when the step does not set ignoreWarnings',
      )
      .description('Approve a runbook step waiting for approval (a restore, by default); the step then starts.');
  else
    cmd
      .requiredOption('--reason <text>', 'why the step is rejected (recorded in the report)')
      .description('Reject a runbook step waiting for approval; the step does not run and the run ends rejected.');
  withConnectionOptions(cmd).action(async (id: string, opts: DecisionFlags) => {
    await withClient(opts, async (c) => {
      const { handle, description } = await findRunbookRun(c, id);
      if (description.status.name !== 'RUNNING')
        throw new CliError(
          `run ${id} has ended (${description.status.name}); no step waits for approval`,
          EXIT.INVALID,
        );
      const answer = await decide(handle, decision, opts);
      const identity = cliIdentity();
      // The run's answer may be encrypted with keys this client lacks: the decision was made all the same.
      const unreadable = unreadableOf(answer);
      const result = unreadable ? { step: opts.step, state: decision === 'approve' ? 'approved' : 'rejected' } : answer;
      if (unreadable) io.stderr(`vmware-dr: the run's answer is not readable here (${unreadable})\n`);
      if (opts.json)
        printJson({ workflowId: id, step: result.step, decision: result.state, by: opts.by, identity }, io.stdout);
      else
        io.stdout(
          `Step ${result.step} of ${id} ${result.state} by ${opts.by}.\nRecorded as client identity ${identity}.\n`,
        );
    });
  });
}

export function registerApprove(program: Command, io: CliIo): void {
  registerDecision(program, io, 'approve');
  registerDecision(program, io, 'reject');
}
