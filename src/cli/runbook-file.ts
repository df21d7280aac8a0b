/** `vmware-dr validate FILE` and `vmware-dr schema`: runbook files checked without a server. */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { LineCounter, isNode, parseDocument } from 'yaml';
import { Runbook, runbookJsonSchema } from '../runbook/document';
import { renderRunbookReference } from '../runbook/reference';
import { type InputProblem, checkInput } from '../workflow-inputs';

/** A problem with where it is in the file (1-based line and column), when the path leads to a node. */
export interface LocatedProblem extends InputProblem {
  file: string;
  line?: number;
  column?: number;
}

/** `stages[1].steps[0].to` → ['stages', 1, 'steps', 0, 'to']. */
function pathKeys(path: string): (string | number)[] {
  if (path === '(input)') return [];
  return path.split('.').flatMap((part) => {
    const [head, ...idx] = part.split('[');
    return [...(head ? [head] : []), ...idx.map((i) => Number(i.replace(']', '')))];
  });
}

/** Reads a runbook file (YAML or JSON) and checks it: the document, or every problem with its position. */
export function checkRunbookFile(
  file: string,
): { ok: true; document: unknown } | { ok: false; problems: LocatedProblem[] } {
  const text = readFileSync(file, 'utf8');
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
  const check = checkInput('runbook', Runbook, value);
  if (check.ok) return { ok: true, document: value };
  return {
    ok: false,
    problems: check.problems.map((p) => {
      // The deepest node the path reaches: the field itself, or its parent when the field is missing.
      const keys = pathKeys(p.path);
      for (let n = keys.length; n >= 0; n--) {
        const node = doc.getIn(keys.slice(0, n), true);
        if (isNode(node) && node.range) {
          const pos = lineCounter.linePos(node.range[0]);
          return { file, ...p, line: pos.line, column: pos.col };
        }
      }
      return { file, ...p };
    }),
  };
}

export function registerRunbookFile(program: Command): void {
  program
    .command('validate')
    .argument('<file>', 'a runbook file, YAML or JSON')
    .option('--json', 'print the result as JSON')
    .description(
      'Check a runbook file without a server: every problem with file, line, column and field. Exits 0 when valid, 2 when not.',
    )
    .action((file: string, opts: { json?: boolean }) => {
      const result = checkRunbookFile(file);
      if (opts.json)
        console.log(JSON.stringify(result.ok ? { ok: true } : { ok: false, problems: result.problems }, null, 2));
      else if (result.ok) console.log(`${file}: valid`);
      else
        for (const p of result.problems)
          console.error(`${p.file}:${p.line ?? '?'}:${p.column ?? '?'}: ${p.path}: ${p.message}`);
      if (!result.ok) process.exitCode = 2;
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
