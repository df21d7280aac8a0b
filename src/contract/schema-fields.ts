/**
 * The field names a zod schema accepts at a path of an input: what "did you mean" chooses from
 * when an input has an unknown field. Follows wrappers (optional, default, pipe, lazy, …), records,
 * arrays and tuples; of a union, the object option the input at that point fits best (its literal
 * fields agree, most of its keys known). Pure (zod only): safe to import from workflow code.
 */
import type { z } from 'zod';

/** The parts of a zod 4 schema definition this module reads. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  getter?: () => z.ZodType;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  items?: z.ZodType[];
  options?: z.ZodType[];
  values?: unknown[];
}

const defOf = (schema: z.ZodType): Def => schema._zod.def as unknown as Def;
const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Wrappers whose inner schema describes the same value. */
const WRAPPERS = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'readonly',
  'catch',
  'nonoptional',
  'success',
]);

/** The schema that describes `value`: wrappers unwrapped, a union resolved to the option `value` fits. */
function resolve(schema: z.ZodType, value: unknown, depth = 0): z.ZodType {
  let s = schema;
  for (let i = 0; i < 20 && depth < 20; i++) {
    const def = defOf(s);
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else if (def.type === 'lazy' && def.getter) s = def.getter();
    else if (def.type === 'union' && def.options?.length) return bestOption(def.options, value, depth + 1);
    else return s;
  }
  return s;
}

/** Of a union's options, the object one `value` fits best (literal fields agree, most keys known); else the first. */
function bestOption(options: z.ZodType[], value: unknown, depth: number): z.ZodType {
  const resolved = options.map((o) => resolve(o, value, depth));
  if (!isRecord(value)) return resolved[0]!;
  let best = resolved[0]!;
  let bestScore = -1;
  for (const option of resolved) {
    const shape = defOf(option).shape;
    if (!shape) continue;
    const disagrees = Object.entries(shape).some(([key, field]) => {
      const def = defOf(resolve(field, value[key], depth));
      return def.type === 'literal' && key in value && !(def.values ?? []).includes(value[key]);
    });
    if (disagrees) continue;
    const score = Object.keys(value).filter((k) => k in shape).length;
    if (score > bestScore) {
      best = option;
      bestScore = score;
    }
  }
  return best;
}

/** The schema of `key` inside `value` described by `schema`, if it has one. */
function childOf(schema: z.ZodType, value: unknown, key: PropertyKey): z.ZodType | undefined {
  const def = defOf(resolve(schema, value));
  switch (def.type) {
    case 'object':
      return typeof key === 'string' ? def.shape?.[key] : undefined;
    case 'record':
      return def.valueType;
    case 'array':
      return def.element;
    case 'tuple':
      return typeof key === 'number' ? def.items?.[key] : undefined;
    default:
      return undefined;
  }
}

/**
 * The fields `schema` accepts for the object at `path` of `input`, in their declared order; none
 * when the path leads to no object schema (e.g. a part checked later as `z.unknown()`).
 */
export function fieldsAt(schema: z.ZodType, path: readonly PropertyKey[], input: unknown): string[] {
  let s: z.ZodType | undefined = schema;
  let v: unknown = input;
  for (const key of path) {
    s = childOf(s, v, key);
    if (!s) return [];
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  }
  const def = defOf(resolve(s, v));
  return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}
