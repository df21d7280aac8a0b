/**
 * What every server-talking `vmware-dr` command shares: the connection to
 * Temporal from the standard environment configuration (`@temporalio/envconfig`: TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS variables, TEMPORAL_PROFILE and the TOML config file),
 * overridable by `--address` / `--namespace` / `--profile`, and the Web UI link of a run.
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { Command } from 'commander';
import { CliError, EXIT } from './exit';

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
    config = loadClientConnectConfig({
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

/** Connects to Temporal; on failure throws a {@link CliError} with exit code 3 that says what to set. */
export async function connectClient(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Promise<CliClient> {
  const { connectionOptions, address, namespace } = connectionConfig(flags, env);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectionOptions, connectTimeout: '10 seconds' });
  } catch (err) {
    throw new CliError(
      `cannot reach Temporal at ${address}: ${(err as Error).message.split('\n')[0]} ` +
        '(set TEMPORAL_ADDRESS or --address; TLS and API key from the Temporal environment configuration)',
      EXIT.NO_TEMPORAL,
    );
  }
  return { client: new Client({ connection, namespace }), connection, address, namespace };
}

/** Runs `fn` with a connected client and closes the connection after it, whatever happens. */
export async function withClient<T>(flags: ConnectionFlags, fn: (c: CliClient) => Promise<T>): Promise<T> {
  const c = await connectClient(flags);
  try {
    return await fn(c);
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
