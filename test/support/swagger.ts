/**
 * Minimal, strict Swagger 2.0 contract validator used by tests to check the vCenter
 * simulator and the client against VMware's own published spec files.
 *
 * Design rules:
 *  - Only the schema keywords the vCenter specs actually use are implemented. Any other
 *    keyword (allOf, pattern, minimum, ...) makes the validator THROW, both when a spec is
 *    loaded and when validateSchema meets it, so an unsupported construct can never pass
 *    silently.
 *  - Types and `required` are strict: no coercion, `null` is not a string, an integer
 *    must be a whole number, a `date-time` must be an RFC 3339 timestamp that is a real date.
 *  - Extra object properties are allowed unless the schema says `additionalProperties: false`.
 *  - Spec path keys can carry an "action" discriminator (`/api/x/{id}?action=cancel`,
 *    `/rest/com/vmware/cis/session?~action=get`); findOperation matches those against the
 *    concrete URL's query string.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface SwaggerOperation {
  /** Upper-case HTTP method, e.g. 'POST'. */
  method: string;
  /** The spec's path key, including any `?action=x` discriminator. */
  pathTemplate: string;
  operationId?: string;
  /** Status code (as a string, or 'default') to response object. */
  responses: Record<string, unknown>;
  /** Schema of the `in: body` parameter, if the operation takes a body. */
  bodySchema?: unknown;
  /** Path-level and operation-level parameters, merged (operation-level wins). */
  parameters: unknown[];
}

type JsonObject = Record<string, unknown>;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

/** Keywords that only annotate a schema; they never affect validation. */
const ANNOTATION_KEYWORDS = new Set(['description', 'title', 'example', 'default']);
/** Keywords validateSchema implements. */
const VALIDATION_KEYWORDS = new Set([
  '$ref',
  'type',
  'format',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
]);
const SUPPORTED_TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
const FORMATS_BY_TYPE: Record<string, ReadonlySet<string>> = {
  string: new Set(['date-time', 'date', 'password', 'uri']),
  integer: new Set(['int32', 'int64']),
  number: new Set(['double', 'float']),
};
/** Keywords allowed on a non-body (path/query) parameter. */
const SIMPLE_PARAM_KEYWORDS = new Set([
  'name',
  'in',
  'description',
  'required',
  'type',
  'format',
  'items',
  'enum',
  'collectionFormat',
  'default',
]);
const SIMPLE_PARAM_TYPES = new Set(['string', 'integer', 'number', 'boolean', 'array']);

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_LIMIT = 2 ** 63;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isExtension(key: string): boolean {
  return key.startsWith('x-');
}

/** A short, human-readable rendering of a value for error messages. */
function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `'${value.length > 80 ? `${value.slice(0, 77)}...` : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isInteger(value)) return 'integer';
  return typeof value;
}

function childPath(parent: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

const DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** RFC 3339 date-time whose components are a real calendar date and clock time. */
export function isDateTime(s: string): boolean {
  const m = DATE_TIME_RE.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!isRealDate(y, mo, d) || h > 23 || mi > 59 || se > 59) return false;
  if (m[8] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  return !Number.isNaN(Date.parse(s));
}

function isDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  return m !== null && isRealDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

function resolveRef(ref: unknown, defs: Record<string, unknown>, where: string): { name: string; schema: unknown } {
  if (typeof ref !== 'string' || !ref.startsWith('#/definitions/')) {
    throw new Error(`unsupported $ref ${show(ref)} at ${where}: only '#/definitions/...' is supported`);
  }
  const name = ref.slice('#/definitions/'.length).replace(/~1/g, '/').replace(/~0/g, '~');
  if (!Object.prototype.hasOwnProperty.call(defs, name)) {
    throw new Error(`unresolved $ref '${ref}' at ${where}`);
  }
  return { name, schema: defs[name] };
}

/** Throws when a single schema node uses anything this validator does not implement. */
function checkSchemaNode(schema: unknown, where: string): asserts schema is JsonObject {
  if (!isObject(schema)) throw new Error(`schema at ${where} must be an object, got ${show(schema)}`);
  for (const key of Object.keys(schema)) {
    if (!VALIDATION_KEYWORDS.has(key) && !ANNOTATION_KEYWORDS.has(key) && !isExtension(key)) {
      throw new Error(`unsupported schema keyword '${key}' at ${where}`);
    }
  }
  if ('$ref' in schema) {
    // Swagger 2.0 ignores siblings of $ref; refuse validation siblings rather than silently dropping them.
    const siblings = Object.keys(schema).filter((k) => k !== '$ref' && VALIDATION_KEYWORDS.has(k));
    if (siblings.length > 0) throw new Error(`unsupported keyword(s) ${siblings.join(',')} next to $ref at ${where}`);
    return;
  }
  const type = schema.type;
  if (type !== undefined && (typeof type !== 'string' || !SUPPORTED_TYPES.has(type))) {
    throw new Error(`unsupported schema type ${show(type)} at ${where}`);
  }
  if (schema.format !== undefined) {
    const allowed = typeof type === 'string' ? FORMATS_BY_TYPE[type] : undefined;
    if (typeof schema.format !== 'string' || !allowed?.has(schema.format)) {
      throw new Error(`unsupported format ${show(schema.format)} for type ${show(type)} at ${where}`);
    }
  }
  if (schema.enum !== undefined && (!Array.isArray(schema.enum) || schema.enum.length === 0)) {
    throw new Error(`'enum' at ${where} must be a non-empty array`);
  }
  if (
    schema.required !== undefined &&
    (!Array.isArray(schema.required) || !schema.required.every((r) => typeof r === 'string'))
  ) {
    throw new Error(`'required' at ${where} must be an array of strings`);
  }
  if (schema.properties !== undefined && !isObject(schema.properties)) {
    throw new Error(`'properties' at ${where} must be an object`);
  }
  const ap = schema.additionalProperties;
  if (ap !== undefined && typeof ap !== 'boolean' && !isObject(ap)) {
    throw new Error(`'additionalProperties' at ${where} must be a boolean or a schema`);
  }
  if (schema.items !== undefined && !isObject(schema.items)) {
    throw new Error(`'items' at ${where} must be a single schema (tuple form is not supported)`);
  }
  if (
    (schema.properties !== undefined || schema.required !== undefined || ap !== undefined) &&
    type !== undefined &&
    type !== 'object'
  ) {
    throw new Error(`object keywords on a schema of type ${show(type)} at ${where}`);
  }
  if (schema.items !== undefined && type !== undefined && type !== 'array') {
    throw new Error(`'items' on a schema of type ${show(type)} at ${where}`);
  }
}

/**
 * Walks a schema tree (following $refs once each) and throws on any unsupported keyword or
 * dangling $ref, so problems surface at load time and not only on the branch a value exercises.
 */
function assertSupportedSchema(
  schema: unknown,
  defs: Record<string, unknown>,
  where: string,
  seenRefs: Set<string>,
): void {
  checkSchemaNode(schema, where);
  if (schema.$ref !== undefined) {
    const { name, schema: target } = resolveRef(schema.$ref, defs, where);
    if (seenRefs.has(name)) return;
    seenRefs.add(name);
    assertSupportedSchema(target, defs, `#/definitions/${name}`, seenRefs);
    return;
  }
  if (isObject(schema.properties)) {
    for (const [key, sub] of Object.entries(schema.properties))
      assertSupportedSchema(sub, defs, `${where}/properties/${key}`, seenRefs);
  }
  if (isObject(schema.additionalProperties))
    assertSupportedSchema(schema.additionalProperties, defs, `${where}/additionalProperties`, seenRefs);
  if (schema.items !== undefined) assertSupportedSchema(schema.items, defs, `${where}/items`, seenRefs);
}

/**
 * Validates `value` against a Swagger 2.0 schema. Returns [] when valid, otherwise one
 * message per problem, each prefixed by the JSON path of the offending value
 * (e.g. "$.value.state: expected one of FAILED,INPROGRESS,NONE,SUCCEEDED, got 'RUNNING'").
 * Throws on schema keywords/types/formats it does not support and on unresolvable $refs.
 */
export function validateSchema(schema: unknown, value: unknown, defs: Record<string, unknown>, path = '$'): string[] {
  const errors: string[] = [];
  validateInto(schema, value, defs, path, errors, []);
  return errors;
}

function validateInto(
  schema: unknown,
  value: unknown,
  defs: Record<string, unknown>,
  at: string,
  errors: string[],
  refChain: string[],
): void {
  checkSchemaNode(schema, at);

  if (schema.$ref !== undefined) {
    const { name, schema: target } = resolveRef(schema.$ref, defs, at);
    if (refChain.includes(name)) throw new Error(`circular $ref '${name}' at ${at} does not consume any value`);
    validateInto(target, value, defs, at, errors, [...refChain, name]);
    return;
  }

  const type = schema.type as string | undefined;
  if (type !== undefined && !matchesType(type, value)) {
    errors.push(
      `${at}: expected ${type}, got ${kindOf(value)}${value === undefined || value === null ? '' : ` ${show(value)}`}`,
    );
    return;
  }

  if (Array.isArray(schema.enum) && !schema.enum.some((allowed) => allowed === value)) {
    errors.push(`${at}: expected one of ${schema.enum.map(String).join(',')}, got ${show(value)}`);
    return;
  }

  if (typeof schema.format === 'string') {
    const problem = formatProblem(schema.format, value);
    if (problem) errors.push(`${at}: ${problem}`);
  }

  if (isObject(value) && (type === 'object' || type === undefined)) {
    const properties = isObject(schema.properties) ? schema.properties : {};
    for (const key of (schema.required as string[] | undefined) ?? []) {
      if (value[key] === undefined) errors.push(`${childPath(at, key)}: required property missing`);
    }
    for (const [key, sub] of Object.entries(value)) {
      if (sub === undefined) continue; // not representable in JSON: treat as absent
      const propSchema = properties[key];
      if (propSchema !== undefined) {
        validateInto(propSchema, sub, defs, childPath(at, key), errors, []);
      } else if (schema.additionalProperties === false) {
        errors.push(`${childPath(at, key)}: additional property not allowed`);
      } else if (isObject(schema.additionalProperties)) {
        validateInto(schema.additionalProperties, sub, defs, childPath(at, key), errors, []);
      }
    }
  }

  if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((item, i) => validateInto(schema.items, item, defs, `${at}[${i}]`, errors, []));
  }
}

function matchesType(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    default:
      throw new Error(`unsupported schema type '${type}'`);
  }
}

function formatProblem(format: string, value: unknown): string | undefined {
  switch (format) {
    case 'date-time':
      return typeof value === 'string' && isDateTime(value)
        ? undefined
        : `expected an RFC 3339 date-time, got ${show(value)}`;
    case 'date':
      return typeof value === 'string' && isDate(value)
        ? undefined
        : `expected a full-date (YYYY-MM-DD), got ${show(value)}`;
    case 'int32':
      return typeof value === 'number' && value >= INT32_MIN && value <= INT32_MAX
        ? undefined
        : `expected an int32, got ${show(value)}`;
    case 'int64':
      return typeof value === 'number' && Math.abs(value) < INT64_LIMIT
        ? undefined
        : `expected an int64, got ${show(value)}`;
    case 'password':
    case 'uri':
    case 'double':
    case 'float':
      return undefined; // the type check already did all there is to do
    default:
      throw new Error(`unsupported format '${format}'`);
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length &&
      ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}

type Segment = { literal: string } | { param: string };

interface CompiledOperation {
  op: SwaggerOperation;
  segments: Segment[];
  /** Query pairs baked into the spec key, e.g. [['action', 'cancel']]. */
  discriminator: Array<[string, string]>;
}

interface Match {
  compiled: CompiledOperation;
  pathParams: Record<string, string>;
  query: URLSearchParams;
}

function splitPath(p: string): string[] {
  return p.split('/').slice(1);
}

function compile(op: SwaggerOperation, basePath: string): CompiledOperation {
  const q = op.pathTemplate.indexOf('?');
  const pathPart = q === -1 ? op.pathTemplate : op.pathTemplate.slice(0, q);
  const queryPart = q === -1 ? '' : op.pathTemplate.slice(q + 1);
  const full = `${basePath.replace(/\/$/, '')}${pathPart}`;
  if (!full.startsWith('/')) throw new Error(`path '${op.pathTemplate}' does not start with '/'`);
  const segments: Segment[] = splitPath(full).map((s) => {
    const m = /^\{([^{}]+)\}$/.exec(s);
    if (m?.[1] !== undefined) return { param: m[1] };
    if (s.includes('{') || s.includes('}'))
      throw new Error(`unsupported partial path template segment '${s}' in '${op.pathTemplate}'`);
    return { literal: s };
  });
  return { op, segments, discriminator: [...new URLSearchParams(queryPart).entries()] };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Orders matches most specific first: more discriminator pairs, then literal segments before parameters from the left. */
function compareSpecificity(a: CompiledOperation, b: CompiledOperation): number {
  if (a.discriminator.length !== b.discriminator.length) return b.discriminator.length - a.discriminator.length;
  for (let i = 0; i < Math.min(a.segments.length, b.segments.length); i++) {
    const la = 'literal' in (a.segments[i] ?? {});
    const lb = 'literal' in (b.segments[i] ?? {});
    if (la !== lb) return la ? -1 : 1;
  }
  return 0;
}

function checkSimpleParam(p: JsonObject, where: string): void {
  for (const key of Object.keys(p)) {
    if (!SIMPLE_PARAM_KEYWORDS.has(key) && !isExtension(key))
      throw new Error(`unsupported parameter keyword '${key}' at ${where}`);
  }
  if (typeof p.type !== 'string' || !SIMPLE_PARAM_TYPES.has(p.type))
    throw new Error(`unsupported parameter type ${show(p.type)} at ${where}`);
  if (p.type === 'array') {
    const cf = p.collectionFormat ?? 'csv';
    if (cf !== 'csv' && cf !== 'multi') throw new Error(`unsupported collectionFormat ${show(cf)} at ${where}`);
    checkSchemaNode(p.items, `${where}/items`);
    const items = p.items as JsonObject;
    if (typeof items.type !== 'string' || items.type === 'array' || items.type === 'object') {
      throw new Error(`unsupported array item type ${show(items.type)} at ${where}/items`);
    }
  } else {
    checkSchemaNode({ type: p.type, format: p.format, enum: p.enum }, where);
  }
}

/** Converts a raw query/path string to the parameter's declared type, or returns the string unchanged if it does not parse. */
function coerceRaw(raw: string, type: unknown): unknown {
  switch (type) {
    case 'integer':
      return /^-?\d+$/.test(raw) ? Number(raw) : raw;
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    default:
      return raw;
  }
}

function validateSimpleParam(p: JsonObject, raws: string[], at: string): string[] {
  if (p.type === 'array') {
    const items = p.items as JsonObject;
    const values = (p.collectionFormat ?? 'csv') === 'multi' ? raws : raws.flatMap((r) => r.split(','));
    const schema = { type: items.type, format: items.format, enum: items.enum };
    return values.flatMap((v, i) => validateSchema(schema, coerceRaw(v, items.type), {}, `${at}[${i}]`));
  }
  const schema = { type: p.type, format: p.format, enum: p.enum };
  const errors = raws.length > 1 ? [`${at}: expected a single value, got ${raws.length}`] : [];
  return [...errors, ...raws.flatMap((v) => validateSchema(schema, coerceRaw(v, p.type), {}, at))];
}

function stripUndefined(o: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function isEmptyBody(body: unknown): boolean {
  return body === undefined || body === '';
}

export class SwaggerSpec {
  private readonly compiled: CompiledOperation[];
  /** Query keys that act as operation discriminators somewhere in the spec ('action', '~action'). */
  private readonly discriminatorKeys: ReadonlySet<string>;

  private constructor(
    private readonly ops: SwaggerOperation[],
    readonly definitions: Record<string, unknown>,
    basePaths: string[],
  ) {
    this.compiled = ops.map((op, i) => compile(op, basePaths[i] ?? ''));
    this.discriminatorKeys = new Set(this.compiled.flatMap((c) => c.discriminator.map(([k]) => k)));
  }

  /** Reads and merges several Swagger 2.0 files (paths and definitions). Throws on conflicts or unsupported constructs. */
  static load(...files: string[]): SwaggerSpec {
    if (files.length === 0) throw new Error('SwaggerSpec.load needs at least one file');
    return SwaggerSpec.fromDocuments(
      ...files.map((file) => {
        const abs = path.resolve(file);
        try {
          return { source: abs, document: JSON.parse(readFileSync(abs, 'utf8')) as unknown };
        } catch (err) {
          throw new Error(`cannot read Swagger file ${abs}: ${(err as Error).message}`);
        }
      }),
    );
  }

  /** Same as load() but from already-parsed documents (for tests and generated specs). */
  static fromDocuments(...docs: Array<{ source: string; document: unknown }>): SwaggerSpec {
    const definitions: Record<string, unknown> = {};
    const ops: SwaggerOperation[] = [];
    const basePaths: string[] = [];
    const seen = new Map<string, string>();

    for (const { source, document } of docs) {
      if (!isObject(document) || document.swagger !== '2.0') throw new Error(`${source}: not a Swagger 2.0 document`);
      for (const [name, def] of Object.entries(isObject(document.definitions) ? document.definitions : {})) {
        if (Object.prototype.hasOwnProperty.call(definitions, name) && !deepEqual(definitions[name], def)) {
          throw new Error(`${source}: definition '${name}' conflicts with an earlier file`);
        }
        definitions[name] = def;
      }
      const basePath = typeof document.basePath === 'string' ? document.basePath : '';
      if (!isObject(document.paths)) throw new Error(`${source}: no 'paths' object`);
      for (const [key, item] of Object.entries(document.paths)) {
        if (!isObject(item)) throw new Error(`${source}: path item '${key}' is not an object`);
        const shared = Array.isArray(item.parameters) ? item.parameters : [];
        for (const itemKey of Object.keys(item)) {
          if (
            itemKey !== 'parameters' &&
            !isExtension(itemKey) &&
            !(HTTP_METHODS as readonly string[]).includes(itemKey)
          ) {
            throw new Error(`${source}: unsupported path item key '${itemKey}' in '${key}'`);
          }
        }
        for (const method of HTTP_METHODS) {
          const raw = item[method];
          if (raw === undefined) continue;
          if (!isObject(raw) || !isObject(raw.responses))
            throw new Error(`${source}: ${method} ${key} has no responses`);
          const id = `${method.toUpperCase()} ${basePath}${key}`;
          const previous = seen.get(id);
          if (previous !== undefined) throw new Error(`${source}: ${id} is already defined in ${previous}`);
          seen.set(id, source);

          const own = Array.isArray(raw.parameters) ? raw.parameters : [];
          const ownKeys = new Set(own.map((p) => (isObject(p) ? `${String(p.in)}:${String(p.name)}` : '')));
          const parameters = [
            ...shared.filter((p) => !(isObject(p) && ownKeys.has(`${String(p.in)}:${String(p.name)}`))),
            ...own,
          ];
          const bodyParams = parameters.filter((p) => isObject(p) && p.in === 'body') as JsonObject[];
          if (bodyParams.length > 1) throw new Error(`${source}: ${id} has more than one body parameter`);
          ops.push({
            method: method.toUpperCase(),
            pathTemplate: key,
            ...(typeof raw.operationId === 'string' ? { operationId: raw.operationId } : {}),
            responses: raw.responses,
            ...(bodyParams[0] !== undefined ? { bodySchema: bodyParams[0].schema } : {}),
            parameters,
          });
          basePaths.push(basePath);
        }
      }
    }

    // Fail at load time on anything validation would not understand.
    const seenRefs = new Set<string>();
    for (const [name, def] of Object.entries(definitions))
      assertSupportedSchema(def, definitions, `#/definitions/${name}`, seenRefs);
    for (const op of ops) {
      const where = `${op.method} ${op.pathTemplate}`;
      op.parameters.forEach((p, i) => {
        const pw = `${where} parameters[${i}]`;
        if (!isObject(p)) throw new Error(`${pw}: not an object`);
        if ('$ref' in p) throw new Error(`${pw}: parameter $ref is not supported`);
        if (p.in === 'body') {
          assertSupportedSchema(p.schema, definitions, `${pw}/schema`, seenRefs);
        } else if (p.in === 'path' || p.in === 'query') {
          checkSimpleParam(p, pw);
        } else {
          throw new Error(`${pw}: parameters in '${String(p.in)}' are not supported`);
        }
      });
      for (const [status, response] of Object.entries(op.responses)) {
        const rw = `${where} response ${status}`;
        if (!/^([1-5]\d\d|default)$/.test(status)) throw new Error(`${rw}: invalid status key`);
        if (!isObject(response)) throw new Error(`${rw}: not an object`);
        if ('$ref' in response) throw new Error(`${rw}: response $ref is not supported`);
        if (response.schema !== undefined)
          assertSupportedSchema(response.schema, definitions, `${rw}/schema`, seenRefs);
      }
    }
    return new SwaggerSpec(ops, definitions, basePaths);
  }

  /** Every (method, path key) pair of every loaded file. */
  operations(): SwaggerOperation[] {
    return [...this.ops];
  }

  /**
   * Finds the operation for a concrete request. `url` is a path (or absolute URL) with an
   * optional query string. A spec key with a query discriminator (`?action=cancel`) is chosen
   * only when the URL's query has that exact pair; a URL whose query carries a discriminator
   * key ('action' / '~action') that the candidate does not consume matches nothing, so e.g.
   * `POST /api/appliance/recovery/restore/job?action=bogus` is reported rather than treated as create.
   */
  findOperation(method: string, url: string): SwaggerOperation | undefined {
    return this.match(method, url)?.compiled.op;
  }

  private match(method: string, url: string): Match | undefined {
    const parsed = new URL(url, 'http://swagger.invalid');
    const query = parsed.searchParams;
    const segments = splitPath(parsed.pathname);
    const upper = method.toUpperCase();
    const matches: Match[] = [];
    for (const compiled of this.compiled) {
      if (compiled.op.method !== upper || compiled.segments.length !== segments.length) continue;
      const pathParams: Record<string, string> = {};
      const pathOk = compiled.segments.every((seg, i) => {
        const actual = segments[i] ?? '';
        if ('literal' in seg) return safeDecode(actual) === seg.literal;
        if (actual === '') return false;
        pathParams[seg.param] = safeDecode(actual);
        return true;
      });
      if (!pathOk) continue;
      if (!compiled.discriminator.every(([k, v]) => query.getAll(k).includes(v))) continue;
      const consumed = new Set(compiled.discriminator.map(([k]) => k));
      const declaredQuery = new Set(
        compiled.op.parameters.filter((p) => isObject(p) && p.in === 'query').map((p) => (p as JsonObject).name),
      );
      const stray = [...query.keys()].some(
        (k) => this.discriminatorKeys.has(k) && !consumed.has(k) && !declaredQuery.has(k),
      );
      if (stray) continue;
      matches.push({ compiled, pathParams, query });
    }
    matches.sort((a, b) => compareSpecificity(a.compiled, b.compiled));
    return matches[0];
  }

  /**
   * Checks a response against the spec. [] when valid. An undeclared status is an error; a
   * declared response without a schema requires an empty body (undefined or '').
   */
  validateResponse(method: string, url: string, status: number, body: unknown): string[] {
    const m = this.match(method, url);
    if (!m) return [`no operation in the spec matches ${method.toUpperCase()} ${url}`];
    const { op } = m.compiled;
    const response = op.responses[String(status)] ?? op.responses.default;
    if (response === undefined) {
      return [
        `status ${status} not declared for ${op.method} ${op.pathTemplate} (declared: ${Object.keys(op.responses).join(', ')})`,
      ];
    }
    const schema = isObject(response) ? response.schema : undefined;
    if (schema === undefined) {
      return isEmptyBody(body)
        ? []
        : [
            `$: status ${status} of ${op.method} ${op.pathTemplate} declares no body, got ${kindOf(body)} ${show(body)}`,
          ];
    }
    return validateSchema(schema, body, this.definitions, '$');
  }

  /**
   * Checks a request against the spec: the `in: body` parameter schema (or that no body is
   * sent when the operation takes none), required query parameters, and the declared types of
   * query and path parameters.
   */
  validateRequestBody(method: string, url: string, body: unknown): string[] {
    const m = this.match(method, url);
    if (!m) return [`no operation in the spec matches ${method.toUpperCase()} ${url}`];
    const { op } = m.compiled;
    const errors: string[] = [];
    for (const p of op.parameters as JsonObject[]) {
      const name = String(p.name);
      if (p.in === 'query') {
        const raws = m.query.getAll(name);
        if (raws.length === 0) {
          if (p.required === true)
            errors.push(`query parameter '${name}' is required for ${op.method} ${op.pathTemplate}`);
          continue;
        }
        errors.push(...validateSimpleParam(stripUndefined(p), raws, `query.${name}`));
      } else if (p.in === 'path') {
        const raw = m.pathParams[name];
        if (raw === undefined)
          throw new Error(`${op.method} ${op.pathTemplate}: path parameter '${name}' is not in the path template`);
        errors.push(...validateSimpleParam(stripUndefined(p), [raw], `path.${name}`));
      }
    }
    const bodyParam = (op.parameters as JsonObject[]).find((p) => p.in === 'body');
    if (!bodyParam) {
      if (!isEmptyBody(body))
        errors.push(`$: ${op.method} ${op.pathTemplate} takes no request body, got ${kindOf(body)} ${show(body)}`);
    } else if (isEmptyBody(body)) {
      if (bodyParam.required === true) errors.push(`$: request body is required for ${op.method} ${op.pathTemplate}`);
    } else {
      errors.push(...validateSchema(bodyParam.schema, body, this.definitions, '$'));
    }
    return errors;
  }
}
