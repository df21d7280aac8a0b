/**
 * `vmware-dr codec-server`: serves the payload codec to the Temporal Web UI (and `temporal
 * --codec-endpoint`) until SIGTERM, with the keys of VMWARE_DR_CODEC_KEYS / VMWARE_DR_CODEC_KEY_FILE
 * and, optionally, a bearer token from the reference in VMWARE_DR_CODEC_AUTH_TOKEN.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type * as Codec from '../codec/index';
import type * as Secrets from '../core/secrets';
import { CODEC_ENV_HELP } from '../codec/keys';
import { DEFAULT_CODEC_CORS_ORIGINS, DEFAULT_CODEC_SERVER_HOST, DEFAULT_CODEC_SERVER_PORT } from '../codec/server';
import { type CliIo, CliError, EXIT } from './exit';
import { loadLocal } from './load';

/** A reference (`env:NAME`, `file:/path`) to the bearer token the codec server requires. */
export const CODEC_AUTH_TOKEN_VARIABLE = 'VMWARE_DR_CODEC_AUTH_TOKEN';

interface CodecServerFlags {
  port: number;
  host: string;
  corsOrigin: string[];
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65_535)
    throw new InvalidArgumentError(`--port must be a port 0–65535 (0: a free port), got "${value}"`);
  return n;
}

function origin(value: string, previous: string[] | undefined): string[] {
  if (value !== '*' && !/^https?:\/\/[^/\s]+$/.test(value))
    throw new InvalidArgumentError(
      `--cors-origin must be an origin such as http://localhost:8080 (scheme://host[:port], no path) or *, got "${value}"`,
    );
  // The first --cors-origin replaces the default list.
  return previous === DEFAULT_CODEC_CORS_ORIGINS || previous === undefined ? [value] : [...previous, value];
}

async function runCodecServer(flags: CodecServerFlags, io: CliIo, env: NodeJS.ProcessEnv): Promise<void> {
  // Imported when the command runs (`--help` loads no Temporal package).
  const codec = await loadLocal<typeof Codec>('../codec/index');
  let keys: Codec.CodecKeyring | undefined;
  try {
    keys = codec.loadCodecKeys(env);
  } catch (err) {
    if (err instanceof codec.CodecKeyError) throw new CliError(err.message, EXIT.INVALID);
    throw err;
  }
  if (!keys)
    throw new CliError(
      `no payload encryption keys: set ${codec.CODEC_KEYS_VARIABLE} (id:base64key,…) or ${codec.CODEC_KEY_FILE_VARIABLE} (a file with the same), as the worker has them`,
      EXIT.INVALID,
    );
  let authToken: string | undefined;
  const ref = env[CODEC_AUTH_TOKEN_VARIABLE]?.trim();
  if (ref) {
    const secrets = await loadLocal<typeof Secrets>('../core/secrets');
    if (!secrets.isSecretRef(ref))
      throw new CliError(
        `${CODEC_AUTH_TOKEN_VARIABLE}: a reference to the token (env:NAME or file:/path), not the token itself`,
        EXIT.INVALID,
      );
    try {
      authToken = (await secrets.createSecretResolver({ env }).resolve(ref, CODEC_AUTH_TOKEN_VARIABLE)).reveal();
    } catch (err) {
      throw new CliError(`${CODEC_AUTH_TOKEN_VARIABLE}: ${(err as Error).message}`, EXIT.INVALID);
    }
  }
  let server: Codec.CodecServer;
  try {
    server = await codec.startCodecServer({
      codec: new codec.AesGcmCodec(keys),
      port: flags.port,
      host: flags.host,
      corsOrigins: flags.corsOrigin,
      ...(authToken !== undefined && { authToken }),
      log: (entry) => {
        if (entry.status >= 400) io.stderr(`${JSON.stringify({ level: 'warn', ...entry })}\n`);
      },
    });
  } catch (err) {
    throw new CliError(
      `cannot listen on ${flags.host}:${flags.port}: ${(err as Error).message} (choose another --port or --host)`,
      EXIT.INVALID,
    );
  }
  io.stdout(
    `${JSON.stringify({
      url: server.url,
      port: server.port,
      encryptKeyId: keys.encryptKeyId,
      keyIds: keys.ids,
      corsOrigins: flags.corsOrigin,
      auth: authToken !== undefined ? 'bearer' : 'none',
    })}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
}

export function registerCodecServer(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  const width = Math.max(...[...CODEC_ENV_HELP, [CODEC_AUTH_TOKEN_VARIABLE]].map(([n]) => n!.length)) + 2;
  program
    .command('codec-server')
    .description(
      'Serve the payload codec (POST /encode, /decode) so the Temporal Web UI shows encrypted payloads decrypted; until SIGTERM.',
    )
    .addOption(
      new Option('--port <n>', 'port to listen on (0: a free port)').argParser(port).default(DEFAULT_CODEC_SERVER_PORT),
    )
    .option('--host <addr>', 'address to listen on, 0.0.0.0 in a container', DEFAULT_CODEC_SERVER_HOST)
    .addOption(
      new Option('--cors-origin <origin>', 'origin of the Temporal Web UI allowed to call it (repeatable; * for any)')
        .argParser(origin)
        .default(DEFAULT_CODEC_CORS_ORIGINS),
    )
    .addHelpText(
      'after',
      [
        '',
        'Environment:',
        ...[
          ...CODEC_ENV_HELP,
          [
            CODEC_AUTH_TOKEN_VARIABLE,
            'reference (env:NAME, file:/path) to a token required as Authorization: Bearer <token>; unset: none',
          ],
        ].map(([name, help]) => `  ${name!.padEnd(width)}${help}`),
        '',
        'Point the UI at it: TEMPORAL_CODEC_ENDPOINT=http://localhost:8888 (temporalio/ui), or',
        'temporal server start-dev --ui-codec-endpoint http://localhost:8888 --ui-port 8233 with',
        '--cors-origin http://localhost:8233.',
        '',
      ].join('\n'),
    )
    .action((flags: CodecServerFlags) => runCodecServer(flags, io, env));
}
