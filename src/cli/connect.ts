/**
 * What every server-talking `vmware-dr` command shares: the connection to
 * Temporal from the standard environment configuration (`@temporalio/envconfig`: TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS variables, TEMPORAL_PROFILE and the TOML config file),
 * overridable by `--address` / `--namespace` / `--profile`, and the Web UI link of a run. With
 * VMWARE_DR_CODEC_KEYS / VMWARE_DR_CODEC_KEY_FILE set, the client encrypts and decrypts payloads
 * with the same keys as the worker (src/codec).
 */
import type { Client, Connection, WorkflowExecutionDescription, WorkflowNotFoundError } from '@temporalio/client';
import type * as TemporalClient from '@temporalio/client';
import type * as Envconfig from '@temporalio/envconfig';
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import type * as CodecDataConverter from '../codec/data-converter';
import type * as CodecKeys from '../codec/keys';
import type { DataConverter } from '@temporalio/common';
import { type RunbookRun, runbookClient } from '../client/runbook';
import { RUNBOOK_WORKFLOW_TYPE } from '../contract/messages';
import type * as ReadableCodecModule from './readable-codec';
import { CliError, EXIT } from './exit';
import { load, loadLocal } from './load';
import { NO_KEYS_REASON } from './readable';

// The Temporal client loads when a command connects, not when the program is built (`--help` is fast).
export const temporalClient = (): typeof TemporalClient => load<typeof TemporalClient>('@temporalio/client');

/** The connection flags every server-talking command takes. */
export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  profile?: string;
}

/** Adds `--address`, `--namespace`, `--profile` (each overrides the environment configuration). */
export function withConnectionOptions(cmd: Command): Command {
  return cmd
    .option(
      '--address <host:port>',
      'Temporal frontend (default: TEMPORAL_ADDRESS, the config profile, localhost:7233)',
    )
    .option('--namespace <name>', 'Temporal namespace (default: TEMPORAL_NAMESPACE, the config profile, default)')
    .option('--profile <name>', 'profile of the Temporal config file (default: TEMPORAL_PROFILE, default)');
}

/** A connected client and what it is connected to. Close `connection` when done. */
export interface CliClient {
  client: Client;
  connection: Connection;
  address: string;
  namespace: string;
}

/** The address and namespace the flags and the environment configuration select (no I/O but the config file). */
export function connectionConfig(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env) {
  let config;
  try {
    config = load<typeof Envconfig>('@temporalio/envconfig').loadClientConnectConfig({
      ...(flags.profile ? { profile: flags.profile } : {}),
      overrideEnvVars: Object.fromEntries(
        Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'),
      ),
    });
  } catch (err) {
    throw new CliError(
      `the Temporal client configuration is invalid: ${(err as Error).message} (see TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE)`,
      EXIT.INVALID,
    );
  }
  const connectionOptions = { ...config.connectionOptions, ...(flags.address ? { address: flags.address } : {}) };
  return {
    connectionOptions,
    address: connectionOptions.address ?? 'localhost:7233',
    namespace: flags.namespace ?? config.namespace ?? 'default',
  };
}

/** How long `connectClient` waits for the server: `VMWARE_DR_CONNECT_TIMEOUT_MS`, else 10 s. */
export function connectTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(env.VMWARE_DR_CONNECT_TIMEOUT_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : DEFAULT_CONNECT_TIMEOUT_MS;
}

/** The variable that sets the client identity of `vmware-dr` (default `user@host`). */
export const IDENTITY_VARIABLE = 'VMWARE_DR_IDENTITY';

/**
 * The client identity `vmware-dr` sends with every request: `VMWARE_DR_IDENTITY`, else the OS
 * user at this host. The Temporal server records it (who started a run, who approved a step); four
 * eyes compares it. It is what the client claims: the namespace's authorizer must hold each caller
 * to their own (README, Security model). The SDK's default (`pid@host`) would differ between two
 * commands of one person, so it is never used.
 */
export function cliIdentity(env: NodeJS.ProcessEnv = process.env): string {
  const set = env[IDENTITY_VARIABLE]?.trim();
  if (set) return set.slice(0, 256);
  let user = env.USER || env.USERNAME || 'unknown';
  try {
    user = userInfo().username || user;
  } catch {
    // No user entry for this uid (a container): the environment's name.
  }
  return `${user}@${hostname()}`;
}

/** Default bound of the first connection to Temporal. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The client's data converter: the encrypting one when the environment configures payload keys,
 * else the SDK's default; either way a payload it cannot decode (a run encrypted with keys this
 * client lacks) reads as a marker value, not an error (./readable.ts), so a command degrades for
 * that run alone. Bad keys are invalid input (exit 2), the message naming the variable. Loaded
 * when a command connects (`--help` loads no Temporal package).
 */
export async function clientDataConverter(env: NodeJS.ProcessEnv = process.env): Promise<DataConverter> {
  const { CodecKeyError } = await loadLocal<typeof CodecKeys>('../codec/keys');
  const { dataConverterFromEnv } = await loadLocal<typeof CodecDataConverter>('../codec/data-converter');
  const { ReadableCodec } = await loadLocal<typeof ReadableCodecModule>('./readable-codec');
  let encrypting: DataConverter | undefined;
  try {
    encrypting = dataConverterFromEnv(env);
  } catch (err) {
    if (err instanceof CodecKeyError) throw new CliError(err.message, EXIT.INVALID);
    throw err;
  }
  return { ...encrypting, payloadCodecs: [new ReadableCodec(encrypting?.payloadCodecs ?? [])] };
}

/** Connects to Temporal; on failure throws a {@link CliError} with exit code 3 that says what to set. */
export async function connectClient(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Promise<CliClient> {
  const { connectionOptions, address, namespace } = connectionConfig(flags, env);
  const dataConverter = await clientDataConverter(env);
  const { Client, Connection } = temporalClient();
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectionOptions, connectTimeout: connectTimeoutMs(env) });
  } catch (err) {
    throw new CliError(
      `cannot reach Temporal at ${address}: ${(err as Error).message.split('\n')[0]} ` +
        '(set TEMPORAL_ADDRESS or --address; TLS and API key from the Temporal environment configuration)',
      EXIT.NO_TEMPORAL,
    );
  }
  return {
    client: new Client({ connection, namespace, identity: cliIdentity(env), dataConverter }),
    connection,
    address,
    namespace,
  };
}

/**
 * Runs `fn` with a connected client and closes the connection after it, whatever happens. Errors of
 * server calls leave as {@link cliErrorOf} says (unknown workflow: exit 2, server lost: exit 3).
 */
export async function withClient<T>(flags: ConnectionFlags, fn: (c: CliClient) => Promise<T>): Promise<T> {
  const c = await connectClient(flags);
  try {
    return await fn(c);
  } catch (err) {
    throw cliErrorOf(err, c);
  } finally {
    await c.connection.close();
  }
}

/**
 * The Web UI link of a workflow. `VMWARE_DR_UI_URL` when set (e.g. `https://temporal.example.com`);
 * else, for a local dev server on port 7233, its UI on 8233; else none (a remote server's UI
 * address cannot be guessed).
 */
export function workflowUiUrl(
  address: string,
  namespace: string,
  workflowId: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const path = `/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  const base = env.VMWARE_DR_UI_URL?.replace(/\/+$/, '');
  if (base) return `${base}${path}`;
  const m = /^(localhost|127\.0\.0\.1|\[::1\]):7233$/.exec(address);
  return m ? `http://${m[1]}:8233${path}` : undefined;
}

/**
 * The handle of an existing runbook run and its description. An unknown id, or a run of another
 * workflow type, is invalid input (exit 2) with a message that says so; a lost server is exit 3.
 */
export async function findRunbookRun(
  c: CliClient,
  workflowId: string,
): Promise<{ handle: RunbookRun; description: WorkflowExecutionDescription }> {
  const handle = runbookClient(c.client).get(workflowId);
  let description: WorkflowExecutionDescription;
  try {
    description = await handle.describe();
  } catch (err) {
    throw cliErrorOf(err, c, workflowId);
  }
  if (description.type !== RUNBOOK_WORKFLOW_TYPE)
    throw new CliError(
      `${workflowId} is a ${description.type} run, not a runbook run (${RUNBOOK_WORKFLOW_TYPE}); vmware-dr list shows the runbook runs`,
      EXIT.INVALID,
    );
  return { handle, description };
}

/**
 * The {@link CliError} for an error of a server call: an unknown workflow is invalid input (2), an
 * unreachable server exit 3 (gRPC UNAVAILABLE / DEADLINE_EXCEEDED), anything else passes as is.
 */
export function cliErrorOf(err: unknown, c: Pick<CliClient, 'address' | 'namespace'>, workflowId?: string): unknown {
  if (err instanceof CliError) return err;
  if (err instanceof temporalClient().WorkflowNotFoundError)
    return new CliError(
      `no runbook run with id ${workflowId ?? (err as WorkflowNotFoundError).workflowId} in namespace ${c.namespace} (vmware-dr list shows the runbook runs)`,
      EXIT.INVALID,
    );
  // A run this client cannot read: its payloads are encrypted with keys it lacks (./readable.ts).
  if ((err as Error)?.name === 'UnreadableRunError') return new CliError((err as Error).message, EXIT.INVALID);
  if (/Unknown encoding: binary\/encrypted/.test((err as Error)?.message ?? ''))
    return new CliError(NO_KEYS_REASON, EXIT.INVALID);
  const code =
    (err as { code?: number; cause?: { code?: number } })?.code ?? (err as { cause?: { code?: number } })?.cause?.code;
  // gRPC status codes: 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
  if (code === 14 || code === 4)
    return new CliError(`lost Temporal at ${c.address}: ${(err as Error).message.split('\n')[0]}`, EXIT.NO_TEMPORAL);
  return err;
}
