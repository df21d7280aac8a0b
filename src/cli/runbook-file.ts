/**
 * `vmware-dr validate FILE [--policy POLICY]` and `vmware-dr schema`: runbook files checked without
 * a server (with `--policy`, also against a worker credential policy).
 */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { LineCounter, isNode, parseDocument } from 'yaml';
import { CredentialPolicy, PolicyFileError, type PolicyProblem } from '../core/policy/index';
import { Runbook, type RunbookDocument, runbookJsonSchema } from '../contract/runbook/document';
import { renderRunbookReference } from '../contract/runbook/reference';
import { type InputProblem, checkInput } from '../contract/inputs';

/** A problem with where it is in the file (1-based line and column), when the path leads to a node. */
export interface LocatedProblem extends InputProblem {
  file: string;
  line?: number;
  column?: number;
}

/** A problem as one line: `file:line:column: path: message` (without the position when it has none). */
export function problemLine(p: LocatedProblem): string {
  return `${p.file}${p.line !== undefined ? `:${p.line}:${p.column ?? 1}` : ''}: ${p.path}: ${p.message}`;
}

/** Why a file cannot be read, for people: `no such file (ENOENT)`, `a directory (EISDIR)`, … */
export function unreadableReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const what: Record<string, string> = {
    ENOENT: 'no such file',
    EISDIR: 'it is a directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
  };
  return code ? `${what[code] ?? (err as Error).message.split(',')[0]} (${code})` : (err as Error).message;
}

/** `stages[1].steps[0].to` → ['stages', 1, 'steps', 0, 'to']. */
function pathKeys(path: string): (string | number)[] {
  if (path === '(input)') return [];
  return path.split('.').flatMap((part) => {
    const [head, ...idx] = part.split('[');
    return [...(head ? [head] : []), ...idx.map((i) => Number(i.replace(']', '')))];
  });
}

/** The 1-based line and column of the deepest node a problem path reaches in the file's YAML. */
function positionOf(
  doc: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
  path: string,
): { line: number; column: number } | undefined {
  const keys = pathKeys(path);
  for (let n = keys.length; n >= 0; n--) {
    const node = doc.getIn(keys.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lineCounter.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return undefined;
}

/** A policy problem of a runbook file, with where it is in the file. */
export interface LocatedPolicyProblem extends PolicyProblem {
  file: string;
  line?: number;
  column?: number;
}

/**
 * A valid runbook file against a credential policy: every problem (`runbookProblems`) with its
 * position in the file. Throws `PolicyFileError` for a bad policy file.
 */
export async function checkRunbookAgainstPolicy(
  file: string,
  document: RunbookDocument,
  policyFile: string,
): Promise<{ policy: { source: string; sha256: string }; problems: LocatedPolicyProblem[] }> {
  const policy = await CredentialPolicy.load(policyFile);
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter, prettyErrors: false });
  return {
    policy: { source: policy.source, sha256: policy.sha256 },
    problems: policy.runbookProblems(document).map((p) => ({ file, ...p, ...positionOf(doc, lineCounter, p.path) })),
  };
}

/**
 * Reads a runbook file (YAML or JSON) and checks it: the document, or every problem with its
 * position. A file that cannot be read is one problem, path `(file)`, and `unreadable` says why.
 */
export function checkRunbookFile(
  file: string,
): { ok: true; document: unknown } | { ok: false; problems: LocatedProblem[]; unreadable?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const unreadable = unreadableReason(err);
    return { ok: false, problems: [{ file, path: '(file)', message: `cannot read it: ${unreadable}` }], unreadable };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          file,
          path: '(file)',
          message: e.message.split('\n')[0] ?? e.message,
          line: pos.line,
          column: pos.col,
        };
      }),
    };
  }
  const value = doc.toJS() as unknown;
  // A person's file, checked before anything starts: a secret typed in it is in the file, not in a history.
  const check = checkInput('runbook', Runbook, value, { origin: 'file' });
  if (check.ok) return { ok: true, document: value };
  return {
    ok: false,
    // The deepest node the path reaches: the field itself, or its parent when the field is missing.
    problems: check.problems.map((p) => ({ file, ...p, ...positionOf(doc, lineCounter, p.path) })),
  };
}

export function registerRunbookFile(program: Command): void {
  program
    .command('validate')
    .argument('<file>', 'a runbook file, YAML or JSON')
    .option('--json', 'print the result as JSON')
    .option(
      '--policy <file>',
      'also check it against a worker credential policy: what the worker would refuse, the steps it stops and the rule',
    )
    .description(
      'Check a runbook file without a server: every problem with file, line, column and field. Exits 0 when valid, 2 when not.',
    )
    .action(async (file: string, opts: { json?: boolean; policy?: string }) => {
      const result = checkRunbookFile(file);
      if (!result.ok || !opts.policy) {
        if (opts.json)
          console.log(JSON.stringify(result.ok ? { ok: true } : { ok: false, problems: result.problems }, null, 2));
        else if (result.ok) console.log(`${file}: valid`);
        else for (const p of result.problems) console.error(problemLine(p));
        if (!result.ok) process.exitCode = 2;
        return;
      }
      let checked: Awaited<ReturnType<typeof checkRunbookAgainstPolicy>>;
      try {
        checked = await checkRunbookAgainstPolicy(file, result.document as RunbookDocument, opts.policy);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (!(err instanceof PolicyFileError) && !code) throw err;
        if (opts.json)
          console.log(
            JSON.stringify(
              {
                ok: false,
                policyProblems:
                  err instanceof PolicyFileError ? err.problems : [`cannot read ${opts.policy} (${code})`],
              },
              null,
              2,
            ),
          );
        else console.error(err instanceof PolicyFileError ? err.message : `cannot read ${opts.policy} (${code})`);
        process.exitCode = 2;
        return;
      }
      const ok = checked.problems.length === 0;
      if (opts.json) console.log(JSON.stringify({ ok, policy: checked.policy, problems: checked.problems }, null, 2));
      else if (ok) console.log(`${file}: valid, and allowed by the credential policy ${checked.policy.source}`);
      else {
        console.error(
          `${file}: the credential policy ${checked.policy.source} refuses ${checked.problems.length} thing${checked.problems.length === 1 ? '' : 's'}:`,
        );
        for (const p of checked.problems)
          console.error(
            `${problemLine(p)} (rule ${p.rule}; ${p.steps.length ? `stops step${p.steps.length === 1 ? '' : 's'} ${p.steps.join(', ')}` : 'stops no step: its notifications would be refused'})`,
          );
      }
      if (!ok) process.exitCode = 2;
    });
  program
    .command('schema')
    .description("Print the runbook document's JSON Schema (for editors: yaml-language-server, VS Code).")
    .addOption(
      new Option('--format <format>', 'json: the JSON Schema; markdown: the runbook reference (as in the README)')
        .choices(['json', 'markdown'])
        .default('json'),
    )
    .action((opts: { format: 'json' | 'markdown' }) =>
      console.log(opts.format === 'markdown' ? renderRunbookReference() : JSON.stringify(runbookJsonSchema(), null, 2)),
    );
}
