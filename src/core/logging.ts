/**
 * Structured logs for long-running processes (the worker): pino, one JSON object per line, with
 * secrets kept out. Two guards: pino's `redact` blanks password-ish keys wherever a log call puts
 * them (top level and two levels down), and a scrub replaces `Basic …` / `Bearer …` credentials
 * and vCenter session ids inside any string (messages, error texts, nested fields).
 *
 * `TemporalPinoLogger` adapts a pino logger to the Temporal SDK's `Logger` interface, for
 * `Runtime.install({ logger })`: the SDK's own messages, the workflow `log` and the activity
 * `Context.log` then come out of the same pino logger, redacted the same way
 * (https://docs.temporal.io/develop/typescript/observability#logging).
 */
import { Writable } from 'node:stream';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName } from './log-levels';

export { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName };

/** What replaces a secret in a log line. */
export const REDACTED = '[REDACTED]';

/** Keys whose values never reach a log line (exact names; `passwordRef` and other references stay). */
export const SECRET_KEYS = [
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'api_key',
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'backupPassword',
  'locationPassword',
  'location_password',
  'backup_password',
  'vmware-api-session-id',
] as const;

/** pino `redact` paths: each secret key at the top level and one or two objects down. */
export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((key) => {
  const k = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : `["${key}"]`;
  const sep = k.startsWith('[') ? '' : '.';
  return [k, `*${sep}${k}`, `*.*${sep}${k}`];
});

/**
 * HTTP credentials inside free text: `Basic <base64>`, `Bearer <token>` (RFC 7617, RFC 6750),
 * and vCenter's session header with its value (`vmware-api-session-id: …`, vSphere Automation API).
 */
const CREDENTIAL_PATTERNS: [RegExp, string][] = [
  [/\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [/\b(vmware-api-session-id|x-vmware-vcloud-access-token)(["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi, `$1$2${REDACTED}`],
];

/** `text` with any HTTP credential it contains replaced by `[REDACTED]`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [re, replacement] of CREDENTIAL_PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** Strings scrubbed everywhere in a plain value; errors become `{type, message, stack}`. */
function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return {
      type: value.name,
      message: scrubSecrets(value.message),
      ...(value.stack !== undefined && { stack: scrubSecrets(value.stack) }),
    };
  }
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1);
  return out;
}

export interface CreateLoggerOptions {
  /** @default 'info' */
  level?: LogLevelName;
  /** `json`: one JSON object per line. `pretty`: `time LEVEL message key=value …` for a terminal. @default 'json' */
  format?: LogFormat;
  /** Where lines go. @default standard output */
  destination?: DestinationStream;
  /** Fields on every line, e.g. `{ service: 'vmware-dr-worker' }`. */
  base?: Record<string, unknown>;
}

/** One JSON line as `time LEVEL message key=value …` (the `pretty` format; pino-pretty is not a dependency). */
function prettyLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, pid: _pid, hostname: _hostname, ...rest } = rec;
  const when = typeof time === 'number' ? new Date(time).toISOString() : String(time ?? '');
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${when} ${String(level).toUpperCase().padEnd(5)} ${String(msg ?? '')}${fields ? ` ${fields}` : ''}`;
}

function prettyStream(out: DestinationStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') out.write(`${prettyLine(line)}\n`);
      done();
    },
  });
}

/** The process logger: redacted, JSON (or pretty) lines, level names instead of numbers. */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const destination = opts.destination ?? pino.destination({ dest: 1, sync: true });
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: { pid: process.pid, ...opts.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => scrubDeep(obj) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<typeof method>);
      },
    },
  };
  return pino(options, opts.format === 'pretty' ? prettyStream(destination) : destination);
}

const TO_PINO: Record<LogLevel, LogLevelName> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The Temporal level for a pino level name (for the native log filter). */
export function temporalLogLevel(level: LogLevelName): LogLevel {
  return level.toUpperCase() as LogLevel;
}

/** The Temporal SDK's `Logger` on top of pino: metadata (workflowId, activityType, …) becomes fields. */
export class TemporalPinoLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const fields = meta ? (scrubDeep({ ...meta }) as Record<string, unknown>) : {};
    this.logger[TO_PINO[level] ?? 'info'](fields, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
