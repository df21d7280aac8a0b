/**
 * Reading a worker credential policy file (YAML or JSON) into a checked document: every problem at
 * once, each as `FILE:LINE: field: what. Fix: how` (zod issue paths mapped to the YAML nodes'
 * lines, unknown fields with a "did you mean"); and the list of the format's fields with their
 * descriptions (the README's table is checked against it). Pure (zod and yaml).
 */
import { type Document, LineCounter, isMap, isNode, isScalar, parseDocument } from 'yaml';
import { z } from 'zod';
import { POLICY_API_VERSION, POLICY_KIND, PolicyShape, WorkerPolicy, type WorkerPolicyDocument } from './format';
import { closest } from '../../contract/closest';

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A policy file that cannot be used: every problem, each `file:line: field: what. Fix: how`. */
export class PolicyFileError extends Error {
  override readonly name = 'PolicyFileError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `${source} is not a valid worker credential policy (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`,
    );
  }
}

function pathText(path: readonly PropertyKey[]): string {
  return path.length === 0
    ? '(document)'
    : path
        .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
        .join('.')
        .replace(/\.\[/g, '[');
}

/** The schema of the value at `path` (through optional, default, array and object wrappers). */
function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  const unwrap = (x: z.ZodType): z.ZodType => {
    let cur = x;
    for (let i = 0; i < 10; i++) {
      const def = cur._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
      if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType)
        cur = def.innerType;
      else if (def.type === 'pipe' && def.in) cur = def.in;
      else break;
    }
    return cur;
  };
  for (const key of path) {
    if (!s) return undefined;
    const def = unwrap(s)._zod.def as { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType };
    if (def.type === 'object' && typeof key === 'string') s = def.shape?.[key];
    else if (def.type === 'array' && typeof key === 'number') s = def.element;
    else return undefined;
  }
  return s;
}

function knownKeys(path: readonly PropertyKey[]): string[] {
  const s = schemaAt(WorkerPolicy, path);
  if (!s) return [];
  let cur = s;
  for (let i = 0; i < 10; i++) {
    const def = cur._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: object };
    if (def.type === 'object') return Object.keys(def.shape ?? {});
    const next = def.innerType ?? def.in;
    if (!next) break;
    cur = next;
  }
  return [];
}

/** The 1-based line of the node at `path` (the key of an unknown field), else of its nearest parent. */
function lineOf(doc: Document, lc: LineCounter, path: readonly PropertyKey[], key?: string): number | undefined {
  if (key !== undefined) {
    const map = doc.getIn(path as PropertyKey[], true);
    if (isMap(map)) {
      const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (pair && isNode(pair.key) && pair.key.range) return lc.linePos(pair.key.range[0]).line;
    }
  }
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as PropertyKey[], true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

/** A zod issue as `what. Fix: how` (the schema's own messages carry their fix; others get the field's description). */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.message.includes('Fix:')) return issue.message;
  const description = schemaAt(WorkerPolicy, issue.path)?.description;
  const about = description ? ` (${description.replace(/\.$/, '')})` : '';
  if (issue.code === 'invalid_value') {
    const values = issue.values.map(String);
    const hint = typeof issue.input === 'string' ? closest(issue.input, values) : undefined;
    return `is ${JSON.stringify(issue.input)}, not one of ${values.join(', ')}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}. Fix: write one of them${about}`;
  }
  if (issue.code === 'invalid_type')
    return issue.input === undefined
      ? `is required. Fix: add it${about}`
      : `must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}, not ${Array.isArray(issue.input) ? 'a list' : typeof issue.input}. Fix: write it as documented${about}`;
  return `${issue.message}. Fix: write it as documented${about}`;
}

/**
 * Reads policy text (YAML or JSON; `source` names it in messages): the checked document, or a
 * {@link PolicyFileError} with every problem, each naming the line and the field.
 */
export function parsePolicyText(text: string, source: string): WorkerPolicyDocument {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length)
    throw new PolicyFileError(
      source,
      doc.errors.map(
        (e) =>
          `${source}:${lc.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}. Fix: correct the YAML (or JSON) syntax there`,
      ),
    );
  const value = doc.toJS() as unknown;
  if (!isObject(value))
    throw new PolicyFileError(source, [
      `${source}:1: (document): is ${value == null ? 'empty' : 'not a mapping'}. Fix: write a policy (apiVersion: ${POLICY_API_VERSION}, kind: ${POLICY_KIND}, ...); vmware-dr policy init RUNBOOK... writes a starting one`,
    ]);
  const result = WorkerPolicy.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const problems: { line: number; text: string }[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(issue.path);
      for (const key of issue.keys) {
        const hint = closest(key, known);
        problems.push({
          line: lineOf(doc, lc, issue.path, key) ?? 1,
          text: `${pathText([...issue.path, key])}: unknown field${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}. Fix: remove it${known.length ? `; the fields here are ${known.join(', ')}` : ''}`,
        });
      }
      continue;
    }
    problems.push({ line: lineOf(doc, lc, issue.path) ?? 1, text: `${pathText(issue.path)}: ${describeIssue(issue)}` });
  }
  problems.sort((a, b) => a.line - b.line);
  throw new PolicyFileError(
    source,
    problems.map((p) => `${source}:${p.line}: ${p.text}`),
  );
}

/** Every field of the policy format with its description (the README's field table is checked against it). */
export function policyFieldReference(): { field: string; description: string }[] {
  const schema = z.toJSONSchema(PolicyShape, { io: 'input', unrepresentable: 'any' }) as JsonNode;
  const out: { field: string; description: string }[] = [];
  const walk = (node: JsonNode | undefined, prefix: string): void => {
    for (const [key, child] of Object.entries(node?.properties ?? {})) {
      out.push({ field: `${prefix}${key}`, description: child.description ?? '' });
      walk(child, `${prefix}${key}.`);
      walk(child.items, `${prefix}${key}[].`);
    }
  };
  walk(schema, '');
  return out;
}

interface JsonNode {
  description?: string;
  properties?: Record<string, JsonNode>;
  items?: JsonNode;
}
