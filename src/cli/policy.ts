/**
 * `vmware-dr policy init RUNBOOK...` (a starting worker credential policy from runbook files) and
 * `vmware-dr policy check FILE` (a policy file checked: every problem with its line). No server.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CredentialPolicy, PolicyFileError, policyForRunbooks } from '../core/policy/index';
import type { RunbookDocument } from '../contract/runbook/document';
import { type CliIo, CliError, EXIT } from './exit';
import { checkRunbookFile, problemLine } from './runbook-file';

/** The hosts of webhook URLs init can see: `env:` references set in its own environment (only the host is written). */
export function webhookUrlFromEnv(env: NodeJS.ProcessEnv): (urlRef: string) => string | undefined {
  return (urlRef) => (urlRef.startsWith('env:') ? env[urlRef.slice(4)] || undefined : undefined);
}

/** `policy init`: the policy text, or a `CliError` (exit 2) listing every problem of the runbook files. */
export function policyInit(files: string[], env: NodeJS.ProcessEnv = process.env): string {
  const docs: RunbookDocument[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const checked = checkRunbookFile(file);
    if (checked.ok) docs.push(checked.document as RunbookDocument);
    else problems.push(...checked.problems.map(problemLine));
  }
  if (problems.length)
    throw new CliError(`no policy written: the runbook files are not valid:\n${problems.join('\n')}`, EXIT.INVALID);
  const { text } = policyForRunbooks(docs, { sources: files, resolveWebhookUrl: webhookUrlFromEnv(env) });
  // What it wrote must load: the generator and the checks agree.
  CredentialPolicy.parse(text, '(generated policy)');
  return text;
}

/** `policy check`: a one-line summary, or a `CliError` (exit 2) with every problem and its line. */
export async function policyCheck(file: string): Promise<string> {
  try {
    const p = await CredentialPolicy.load(file);
    const s = p.summary();
    return `${file}: valid credential policy (sha256 ${s.sha256}): ${s.appliances} appliance entries, ${s.locations} locations, ${s.webhooks} webhooks`;
  } catch (err) {
    if (err instanceof PolicyFileError) throw new CliError(err.message, EXIT.INVALID);
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new CliError(`cannot read ${file} (${code})`, EXIT.INVALID);
    throw err;
  }
}

export function registerPolicy(program: Command, io: CliIo): void {
  const policy = program
    .command('policy')
    .description("The worker's credential policy (VMWARE_DR_POLICY): write a starting one from runbooks, check one.");
  policy
    .command('init')
    .argument('<runbook...>', 'runbook files (YAML or JSON) the worker will run')
    .option('--out <file>', 'write the policy to FILE instead of stdout')
    .description(
      'Write a starting credential policy from runbook files: one appliance entry per appliance, its references by purpose, its locations, the secret sources they need, webhooks and approval defaults. Review it before use. Exits 2 when a runbook file is not valid.',
    )
    .addHelpText(
      'after',
      [
        '',
        'Webhook hosts are filled in only for env: references set in this environment (only the host is written).',
        'tls.insecure and allowHttp of an endpoint are carried over with a REVIEW comment.',
        'Then: vmware-dr policy check FILE; set VMWARE_DR_POLICY=FILE on the worker.',
        '',
      ].join('\n'),
    )
    .action((files: string[], opts: { out?: string }) => {
      const text = policyInit(files);
      if (opts.out) {
        writeFileSync(opts.out, text, { mode: 0o644 });
        io.stderr(`wrote ${opts.out}: review it, then set VMWARE_DR_POLICY=${opts.out} on the worker\n`);
      } else io.stdout(text);
    });
  policy
    .command('check')
    .argument('<file>', 'a credential policy file (YAML or JSON)')
    .description(
      'Check a credential policy file: every problem with its line, field and fix. Exits 0 when valid, 2 when not.',
    )
    .action(async (file: string) => {
      io.stdout(`${await policyCheck(file)}\n`);
    });
}
