/**
 * The payload encryption keys: `VMWARE_DR_CODEC_KEYS` (`id1:base64key,id2:base64key`) or
 * `VMWARE_DR_CODEC_KEY_FILE` (a file with the same entries, by comma or line). The first key
 * encrypts; every key decrypts, so a key rotates by putting a new key first and keeping the old
 * ones until no history needs them. Each key is 32 bytes (AES-256). Errors name the variable and
 * the entry, never key material.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';

/** Keys inline: `id1:base64key,id2:base64key` (the first encrypts). */
export const CODEC_KEYS_VARIABLE = 'VMWARE_DR_CODEC_KEYS';
/** A file holding the same entries (a Docker/Kubernetes secret). */
export const CODEC_KEY_FILE_VARIABLE = 'VMWARE_DR_CODEC_KEY_FILE';
/** AES-256: 32-byte keys. */
export const CODEC_KEY_BYTES = 32;
/** Key ids travel in payload metadata (`encryption-key-id`): short, printable, no separators. */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Help lines of the codec variables (worker and codec-server `--help`). */
export const CODEC_ENV_HELP: [name: string, help: string][] = [
  [
    CODEC_KEYS_VARIABLE,
    'payload encryption keys, id1:base64key,id2:base64key (32 bytes each; the first encrypts, all decrypt); unset: no encryption',
  ],
  [CODEC_KEY_FILE_VARIABLE, `a file with the same entries (comma or one per line), instead of ${CODEC_KEYS_VARIABLE}`],
];

/** Bad key configuration: one `VARIABLE: problem` per issue, never a key's bytes. */
export class CodecKeyError extends Error {
  override readonly name = 'CodecKeyError';
  constructor(readonly problems: string[]) {
    super(`invalid payload encryption keys:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * The keys of a codec, by id; the first encrypts. Printing, logging or serialising it shows the
 * ids only.
 */
export class CodecKeyring {
  readonly #keys: ReadonlyMap<string, Buffer>;
  /** The id new payloads are encrypted with. */
  readonly encryptKeyId: string;
  /** Where the keys came from (a variable name), for messages. */
  readonly source: string;

  constructor(keys: [id: string, key: Buffer][], source = 'keys') {
    if (keys.length === 0) throw new CodecKeyError([`${source}: at least one key`]);
    const problems: string[] = [];
    const seen = new Set<string>();
    keys.forEach(([id, key], i) => {
      if (!KEY_ID.test(id)) problems.push(`${source}: entry ${i + 1}: key id must be 1–64 of A-Z a-z 0-9 . _ -`);
      if (seen.has(id)) problems.push(`${source}: entry ${i + 1}: key id "${id}" appears twice; ids must be unique`);
      seen.add(id);
      if (key.length !== CODEC_KEY_BYTES)
        problems.push(`${source}: key "${id}" is ${key.length} bytes; AES-256 needs ${CODEC_KEY_BYTES}`);
    });
    if (problems.length > 0) throw new CodecKeyError(problems);
    this.#keys = new Map(keys.map(([id, key]) => [id, Buffer.from(key)]));
    this.encryptKeyId = keys[0]![0];
    this.source = source;
  }

  /** The key of an id, or undefined. */
  key(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }

  /** Every key id, the encrypting one first. */
  get ids(): string[] {
    return [...this.#keys.keys()];
  }

  toJSON(): { encryptKeyId: string; ids: string[] } {
    return { encryptKeyId: this.encryptKeyId, ids: this.ids };
  }

  toString(): string {
    return `CodecKeyring(${this.ids.join(', ')})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * Parses `id:base64key` entries separated by commas or new lines (blank lines and `#` comments
 * ignored). `source` names where they came from in every error.
 */
export function parseCodecKeys(text: string, source: string): CodecKeyring {
  const entries = text
    .split(/[,\n]/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '');
  if (entries.length === 0)
    throw new CodecKeyError([`${source}: no keys; expected id:base64key[,id:base64key…] (32-byte keys, base64)`]);
  const problems: string[] = [];
  const keys: [string, Buffer][] = [];
  entries.forEach((entry, i) => {
    const colon = entry.indexOf(':');
    if (colon <= 0) {
      problems.push(`${source}: entry ${i + 1} is not id:base64key (e.g. key-2026-01:$(openssl rand -base64 32))`);
      return;
    }
    const id = entry.slice(0, colon).trim();
    const material = entry.slice(colon + 1).trim();
    if (!BASE64.test(material)) {
      problems.push(`${source}: key "${id}" is not base64 (generate one with: openssl rand -base64 32)`);
      return;
    }
    keys.push([id, Buffer.from(material, 'base64')]);
  });
  if (problems.length > 0) throw new CodecKeyError(problems);
  return new CodecKeyring(keys, source);
}

/**
 * The keys the environment configures, or undefined when neither variable is set (no
 * encryption). Throws {@link CodecKeyError} naming the variable when they are set but unusable.
 */
export function loadCodecKeys(env: NodeJS.ProcessEnv = process.env): CodecKeyring | undefined {
  const inline = env[CODEC_KEYS_VARIABLE]?.trim() || undefined;
  const file = env[CODEC_KEY_FILE_VARIABLE]?.trim() || undefined;
  if (inline !== undefined && file !== undefined)
    throw new CodecKeyError([`${CODEC_KEYS_VARIABLE} and ${CODEC_KEY_FILE_VARIABLE} are both set: set one of them`]);
  if (inline !== undefined) return parseCodecKeys(inline, CODEC_KEYS_VARIABLE);
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CodecKeyError([
      `${CODEC_KEY_FILE_VARIABLE}: cannot read ${JSON.stringify(file)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  return parseCodecKeys(text, `${CODEC_KEY_FILE_VARIABLE} (${file})`);
}
