/**
 * vAPI's typed-value JSON encoding, as the vAPI JSON-RPC endpoint (`POST /api`, see `jsonrpc.ts`)
 * speaks it: structures as `{"STRUCTURE": {"<name>": {fields}}}`, errors as `{"ERROR": {...}}`,
 * optionals as `{"OPTIONAL": value | null}` (an unset optional field of a structure may be left
 * out), secrets as `{"SECRET": "..."}`, maps as lists of `map-entry` structures, and strings,
 * enums, dates, integers and booleans as plain JSON.
 *
 * Decoding (what a client sends) needs no types. Encoding an answer does: {@link STRUCTS} holds
 * the definitions of the structures the served operations answer, as VMware's Python vSphere
 * Automation SDK 9.1.1.0 (`vmware-vcenter`) declares them. A field type is `string` (also ids,
 * URIs, enums), `long`, `double`, `boolean`, `date`, `secret`, `void`, a structure name,
 * `?T` (optional), `[T]` (list or set), `{T}` (map from string), or `error`/`dynamic` (left out
 * here: only optional fields have them).
 */

/** Structure name → field → field type. */
export const STRUCTS: Record<string, Record<string, string>> = {
  'com.vmware.cis.session.info': { user: 'string', created_time: 'date', last_accessed_time: 'date' },
  'com.vmware.appliance.recovery.backup.job.return_result': {
    status: 'string',
    messages: '[com.vmware.appliance.recovery.backup.job.localizable_message]',
  },
  'com.vmware.appliance.recovery.backup.job.localizable_message': {
    id: 'string',
    default_message: 'string',
    args: '[string]',
  },
  'com.vmware.appliance.recovery.backup.job.backup_job_status': {
    id: 'string',
    state: 'string',
    messages: '[com.vmware.appliance.recovery.backup.job.localizable_message]',
    progress: 'long',
    start_time: 'date',
    end_time: '?date',
  },
  'com.vmware.appliance.recovery.backup.job.details.info': {
    location: 'string',
    duration: '?long',
    size: '?long',
    progress: '?com.vmware.cis.task.progress',
    location_user: 'string',
    type: 'string',
    messages: '[com.vmware.vapi.std.localizable_message]',
    build: '?com.vmware.appliance.recovery.backup.job.details.build_info',
    fast_backup: '?boolean',
    description: 'com.vmware.vapi.std.localizable_message',
    service: 'string',
    operation: 'string',
    parent: '?string',
    target: '?com.vmware.vapi.std.dynamic_ID',
    status: 'string',
    cancelable: 'boolean',
    error: '?error',
    start_time: '?date',
    end_time: '?date',
    user: '?string',
  },
  'com.vmware.cis.task.progress': {
    total: 'long',
    completed: 'long',
    message: 'com.vmware.vapi.std.localizable_message',
  },
  'com.vmware.vapi.std.localizable_message': {
    id: 'string',
    default_message: 'string',
    args: '[string]',
    params: '?{com.vmware.vapi.std.localization_param}',
    localized: '?string',
  },
  'com.vmware.vapi.std.localization_param': {
    s: '?string',
    dt: '?date',
    i: '?long',
    d: '?double',
    l: '?com.vmware.vapi.std.nested_localizable_message',
    format: '?string',
    precision: '?long',
  },
  'com.vmware.vapi.std.nested_localizable_message': {
    id: 'string',
    params: '?{com.vmware.vapi.std.localization_param}',
  },
  'com.vmware.appliance.recovery.backup.job.details.build_info': {
    version_name: 'string',
    version: 'string',
    build_number: 'string',
  },
  'com.vmware.vapi.std.dynamic_ID': { type: 'string', id: 'string' },
  'com.vmware.appliance.recovery.backup.system_name.archive.info': {
    timestamp: 'date',
    location: 'string',
    parts: '[string]',
    version: 'string',
    system_name: 'string',
    comment: 'string',
  },
  'com.vmware.appliance.recovery.backup.system_name.archive.summary': {
    archive: 'string',
    timestamp: 'date',
    version: 'string',
    comment: 'string',
  },
  'com.vmware.appliance.recovery.backup.schedules.info': {
    parts: '[string]',
    location: 'string',
    location_user: '?string',
    enable: 'boolean',
    recurrence_info: '?com.vmware.appliance.recovery.backup.schedules.recurrence_info',
    retention_info: '?com.vmware.appliance.recovery.backup.schedules.retention_info',
    fast_backup: '?boolean',
  },
  'com.vmware.appliance.recovery.backup.schedules.recurrence_info': { minute: 'long', hour: 'long', days: '?[string]' },
  'com.vmware.appliance.recovery.backup.schedules.retention_info': { max_count: 'long' },
  'com.vmware.appliance.recovery.restore.metadata': {
    timestamp: 'date',
    parts: '[string]',
    version: 'string',
    boxname: 'string',
    sso_login_required: '?boolean',
    comment: 'string',
    applicable: 'boolean',
    messages: '[com.vmware.appliance.recovery.restore.localizable_message]',
  },
  'com.vmware.appliance.recovery.restore.localizable_message': {
    id: 'string',
    default_message: 'string',
    args: '[string]',
  },
  'com.vmware.appliance.recovery.restore.job.return_result': {
    status: 'string',
    messages: '[com.vmware.appliance.recovery.restore.job.localizable_message]',
  },
  'com.vmware.appliance.recovery.restore.job.localizable_message': {
    id: 'string',
    default_message: 'string',
    args: '[string]',
  },
  'com.vmware.appliance.recovery.restore.job.restore_job_status': {
    state: 'string',
    messages: '[com.vmware.appliance.recovery.restore.job.localizable_message]',
    progress: 'long',
    parts: '?[string]',
  },
};

type Json = unknown;

/** vAPI typed JSON → plain JSON (what the REST handlers take): structures to objects, optionals unwrapped. */
export function decodeVapi(value: Json): Json {
  if (Array.isArray(value)) {
    // A map arrives as a list of `map-entry` structures.
    const entries = value.map(decodeVapi);
    const isMap =
      value.length > 0 &&
      value.every((v) => v && typeof v === 'object' && 'map-entry' in ((v as { STRUCTURE?: object }).STRUCTURE ?? {}));
    return isMap
      ? Object.fromEntries((entries as { key: string; value: Json }[]).map((e) => [e.key, e.value]))
      : entries;
  }
  if (!value || typeof value !== 'object') return value;
  const [tag, inner] = Object.entries(value as Record<string, Json>)[0] ?? [];
  switch (tag) {
    case 'STRUCTURE':
    case 'ERROR': {
      const fields = Object.values(inner as Record<string, Record<string, Json>>)[0] ?? {};
      const out: Record<string, Json> = {};
      for (const [k, v] of Object.entries(fields)) {
        const d = decodeVapi(v);
        if (d !== undefined && d !== null) out[k] = d;
      }
      return out;
    }
    case 'OPTIONAL':
      return inner === null ? undefined : decodeVapi(inner);
    case 'SECRET':
    case 'BINARY':
      return inner;
    default:
      throw new Error(`not a vAPI typed value: ${JSON.stringify(value).slice(0, 80)}`);
  }
}

/** Plain JSON (a handler's `/api` answer) → vAPI typed JSON of `type`. */
export function encodeVapi(value: Json, type: string): Json {
  if (type.startsWith('?'))
    return { OPTIONAL: value === undefined || value === null ? null : encodeVapi(value, type.slice(1)) };
  if (type.startsWith('[')) return ((value as Json[] | undefined) ?? []).map((v) => encodeVapi(v, type.slice(1, -1)));
  if (type.startsWith('{')) {
    const element = type.slice(1, -1);
    return Object.entries((value as Record<string, Json> | undefined) ?? {}).map(([key, v]) => ({
      STRUCTURE: { 'map-entry': { key, value: encodeVapi(v, element) } },
    }));
  }
  switch (type) {
    case 'void':
      return null;
    case 'secret':
      return { SECRET: value };
    case 'string':
    case 'long':
    case 'double':
    case 'boolean':
    case 'date':
      return value;
  }
  const fields = STRUCTS[type];
  if (!fields) throw new Error(`no vAPI definition of ${type}`);
  return { STRUCTURE: { [type]: encodeFields(value as Record<string, Json>, fields) } };
}

/** A structure's fields: unset optionals (and `error`/`dynamic` values) left out, unknown fields dropped. */
function encodeFields(value: Record<string, Json>, fields: Record<string, string>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [name, type] of Object.entries(fields)) {
    const v = value[name];
    if (type.startsWith('?') && (v === undefined || v === null || /^\?(error|dynamic)$/.test(type))) continue;
    out[name] = encodeVapi(v, type);
  }
  return out;
}

/** A vAPI standard error (`NOT_FOUND`, …) with the `/api` messages, in the typed encoding. */
export function encodeVapiError(errorType: string, messages: readonly Json[]): Json {
  const name = `com.vmware.vapi.std.errors.${errorType.toLowerCase()}`;
  return {
    ERROR: {
      [name]: {
        messages: encodeVapi(messages, '[com.vmware.vapi.std.localizable_message]'),
        data: { OPTIONAL: null },
        error_type: { OPTIONAL: errorType },
      },
    },
  };
}
