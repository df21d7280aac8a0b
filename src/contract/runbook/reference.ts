/**
 * The runbook reference: every field of the runbook document with its type, whether it is
 * required, its default and its description, rendered as Markdown from the document's JSON Schema
 * (`runbookJsonSchema()`, itself generated from the zod schema and its `.describe()` texts), so
 * the README cannot drift from the schema. Pure: no I/O.
 */
import { z } from 'zod';
import { Name } from '../endpoints';
import { DURATION_PATTERN } from '../duration';
import { runbookJsonSchema } from './document';

/** The markers around the generated block in README.md. */
export const REFERENCE_START = '<!-- runbook-reference:start -->';
export const REFERENCE_END = '<!-- runbook-reference:end -->';

/** The command that rewrites the README block. */
export const REFERENCE_UPDATE_COMMAND = 'npm run docs:reference';

/** The part of JSON Schema the document's schema uses. */
interface JsonSchema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  pattern?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
}

const NAME_PATTERN = (z.toJSONSchema(Name) as JsonSchema).pattern;

/** One section: a path in the document, the variant of a union found there, and its object. */
interface Section {
  path: string;
  variant?: string;
  schema: JsonSchema;
}

/**
 * A line under some sections' headings: what the fields have in common that a field's own
 * description cannot say (the endpoint fields are shared with the step workflows' inputs).
 */
const INTROS: Record<string, string> = {
  runbook: 'The document itself (YAML or JSON). Unknown fields are refused everywhere.',
  'endpoints.<key>':
    'An appliance. `url` is `https://host[:port][/path]` (no user info, query or fragment; `http://` only with ' +
    '`allowHttp: true`); `passwordRef` is a secret reference; in a runbook the key names the appliance in logs, errors ' +
    'and step ids (it replaces `name`); `tls` verifies the appliance (by default against the system CAs).',
  'endpoints.<key>.tls':
    'One of: `caFile` (absolute path of a PEM bundle), `thumbprint` (SHA-256 of the appliance certificate) or ' +
    '`insecure: true` (no verification; warns on every connection).',
};

/** `Default: X.` at the end of a description is the field's default (the schema has no defaults). */
function splitDefault(description = ''): { text: string; default?: string } {
  const m = /^(.*?)\s*Default:\s*(.+?)\.?$/s.exec(description);
  return m ? { text: m[1]!, default: m[2]! } : { text: description };
}

/** A table cell: no line breaks, pipes escaped (GitHub Flavored Markdown tables). */
const cell = (text: string): string => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');

const code = (value: unknown): string => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;

/** The variants of a union, or the schema itself. */
const variants = (s: JsonSchema): JsonSchema[] => s.anyOf ?? s.oneOf ?? [s];

const isObject = (s: JsonSchema): boolean => s.type === 'object' && s.properties !== undefined;

/** The name of one variant of a union of objects: its constant field, else its first required field. */
function variantName(s: JsonSchema): string {
  const constant = Object.entries(s.properties ?? {}).find(([, p]) => p.const !== undefined);
  if (constant) return `${constant[0]}: ${String(constant[1].const)}`;
  return `{ ${s.required?.[0] ?? Object.keys(s.properties ?? {})[0] ?? '…'}: … }`;
}

/** The type of a field in words; object parts are named after the section that lists their fields. */
function typeText(s: JsonSchema, path: string): string {
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return `one of ${s.enum.map(code).join(', ')}`;
  if (s.anyOf || s.oneOf) {
    const vs = variants(s);
    if (vs.every(isObject)) return `object: ${vs.map((v) => `\`${variantName(v)}\``).join(' or ')} (see \`${path}\`)`;
    return vs.map((v) => typeText(v, path)).join(' or ');
  }
  switch (s.type) {
    case 'string':
      if (s.pattern === DURATION_PATTERN.source) return 'duration (`30s`, `5m`, `6h`, `1h30m`)';
      if (s.pattern === NAME_PATTERN) return 'name (1–64 letters, digits, `.`, `_`, `-`)';
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'integer':
    case 'number': {
      const range =
        s.minimum !== undefined || s.maximum !== undefined ? ` (${s.minimum ?? ''}–${s.maximum ?? ''})` : '';
      return `${s.type}${range}`;
    }
    case 'array': {
      const bounds =
        s.minItems !== undefined || s.maxItems !== undefined
          ? ` (${s.minItems ?? 0}–${s.maxItems ?? 'any'} items)`
          : '';
      return `list of ${s.items ? typeText(s.items, `${path}[]`) : 'anything'}${bounds}`;
    }
    case 'object':
      if (s.properties) return `object (see \`${path}\`)`;
      if (s.additionalProperties && typeof s.additionalProperties === 'object')
        return `map of ${s.propertyNames ? typeText(s.propertyNames, path) : 'key'} → ${typeText(s.additionalProperties, `${path}.<key>`)}`;
      return 'object';
    default:
      return 'any';
  }
}

/** The sections below `s` at `path`, depth first, in field order. */
function childSections(s: JsonSchema, path: string): Section[] {
  if (s.type === 'array' && s.items) return childSections(s.items, `${path}[]`);
  if (s.type === 'object' && !s.properties && s.additionalProperties && typeof s.additionalProperties === 'object')
    return childSections(s.additionalProperties, `${path}.<key>`);
  const vs = variants(s);
  if (vs.length > 1 && vs.every(isObject))
    return vs.flatMap((v) => [{ path, variant: variantName(v), schema: v }, ...fieldSections(v, path)]);
  // A union of a plain value and an object (e.g. `archive`: a string, or `{ recoveryPoint }`): the object's fields.
  const objects = vs.length > 1 ? vs.filter(isObject) : [];
  if (objects.length === 1) return [{ path, schema: objects[0]! }, ...fieldSections(objects[0]!, path)];
  if (objects.length > 1)
    return objects.flatMap((v) => [{ path, variant: variantName(v), schema: v }, ...fieldSections(v, path)]);
  if (isObject(s)) return [{ path, schema: s }, ...fieldSections(s, path)];
  return [];
}

function fieldSections(s: JsonSchema, path: string): Section[] {
  return Object.entries(s.properties ?? {}).flatMap(([key, p]) =>
    childSections(p, path === 'runbook' ? key : `${path}.${key}`),
  );
}

/** Resolves local `$ref`s (`#/$defs/…`) so the walk sees every field inline. */
function inlineRefs(s: unknown, defs: Record<string, JsonSchema>, depth = 0): unknown {
  if (depth > 50 || s === null || typeof s !== 'object') return s;
  if (Array.isArray(s)) return s.map((x) => inlineRefs(x, defs, depth + 1));
  const o = s as JsonSchema & Record<string, unknown>;
  if (typeof o.$ref === 'string' && o.$ref.startsWith('#/$defs/')) {
    const { $ref, ...rest } = o;
    return inlineRefs({ ...defs[$ref.slice('#/$defs/'.length)], ...rest }, defs, depth + 1);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, inlineRefs(v, defs, depth + 1)]));
}

function renderSection(section: Section, first: boolean): string {
  const required = new Set(section.schema.required ?? []);
  const rows = Object.entries(section.schema.properties ?? {}).map(([key, p]) => {
    const { text, default: dflt } = splitDefault(p.description);
    const fieldPath = section.path === 'runbook' ? key : `${section.path}.${key}`;
    return `| \`${key}\` | ${cell(typeText(p, fieldPath))} | ${required.has(key) ? 'yes' : ''} | ${cell(dflt ?? '')} | ${cell(text)} |`;
  });
  const intro = first ? INTROS[section.path] : undefined;
  return [
    `### \`${section.path}\`${section.variant ? ` — \`${section.variant}\`` : ''}`,
    '',
    ...(intro ? [intro, ''] : []),
    '| field | type | required | default | description |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/**
 * The runbook reference in Markdown: a table per object of the document (the document itself,
 * `defaults`, `notify[]`, `endpoints.<key>` per product, `locations.<key>`, `stages[]`,
 * `stages[].steps[]` per kind), each field with type, required, default and description.
 * Deterministic: the same schema gives the same text (the README test compares it).
 */
export function renderRunbookReference(): string {
  const raw = runbookJsonSchema() as JsonSchema;
  const schema = inlineRefs(raw, raw.$defs ?? {}) as JsonSchema;
  // Each object once: the endpoints' `tls` is the same object for every product.
  const seen = new Set<string>();
  const sections = [{ path: 'runbook', schema }, ...fieldSections(schema, 'runbook')].filter((s) => {
    const key = `${s.path} ${JSON.stringify(s.schema)}`;
    return !seen.has(key) && !!seen.add(key);
  });
  const paths = new Set<string>();
  const body = sections.map((s) => renderSection(s, !paths.has(s.path) && !!paths.add(s.path)));
  return [
    `Generated from the runbook schema (\`vmware-dr schema\` prints it as JSON Schema); after a schema change run \`${REFERENCE_UPDATE_COMMAND}\`. ` +
      'Durations are written with units (`30s`, `5m`, `6h`, `1h30m`); secrets are references (`env:NAME`, `file:/absolute/path`), never values. ' +
      'Beyond the shapes below, `Runbook` checks every reference at once: endpoints and locations must exist, a product must be able to do the action, one step per appliance in a stage, unique stage names.',
    ...body,
  ].join('\n\n');
}

/**
 * `readme` with the text between the reference markers replaced by `reference`. Throws when a
 * marker is missing or out of order (the README must carry both, start first).
 */
export function replaceReferenceBlock(readme: string, reference: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start)
    throw new Error(`README has no ${REFERENCE_START} … ${REFERENCE_END} block (start marker first)`);
  return `${readme.slice(0, start + REFERENCE_START.length)}\n${reference}\n${readme.slice(end)}`;
}

/** The text between the markers of `readme` (trimmed), or undefined when the block is missing. */
export function referenceBlockOf(readme: string): string | undefined {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + REFERENCE_START.length, end).trim();
}
