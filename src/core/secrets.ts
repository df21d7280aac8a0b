import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';

/**
 * A reference to a secret, never the secret itself: `env:NAME` or `file:/path/to/file`, or
 * `<scheme>:<rest>` for a resolver you register (a vault, say). References are what workflow
 * inputs carry; activities resolve them.
 */
export type SecretRef = string;

/** Resolves the part after `scheme:` to the secret's value. */
export type SecretSchemeResolver = (rest: string) => Promise<string> | string;

export interface SecretResolverOptions {
  /** Extra schemes, e.g. `{ vault: (path) => vaultClient.read(path) }`. `env` and `file` are built in. */
  schemes?: Record<string, SecretSchemeResolver>;
  /** Environment read by `env:`. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A bad or unresolvable secret reference. Its message names the reference, never a value. */
export class SecretReferenceError extends Error {
  readonly code = 'VMWARE_DR_SECRET_REFERENCE';
  override readonly name = 'SecretReferenceError';
}

const REF_PATTERN = /^([a-z][a-z0-9+.-]*):(.+)$/i;

/** Whether `value` has the shape of a reference (`scheme:rest`). Does not resolve it. */
export function isSecretRef(value: unknown): value is SecretRef {
  return typeof value === 'string' && REF_PATTERN.test(value) && !/^[a-z]+:\/\//i.test(value);
}

/**
 * A resolved secret. Printing, logging or serialising it shows `[redacted]`; call `reveal()` at
 * the one place the value is sent to the appliance.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}

export interface SecretResolver {
  resolve(ref: SecretRef, field: string): Promise<Secret>;
}

/** Builds the resolver activities use: `env:` and `file:` built in, more schemes pluggable. */
export function createSecretResolver(options: SecretResolverOptions = {}): SecretResolver {
  const env = options.env ?? process.env;
  const schemes: Record<string, SecretSchemeResolver> = {
    env: (name) => {
      const value = env[name];
      if (value === undefined || value === '') {
        throw new SecretReferenceError(`environment variable ${name} is not set on this worker`);
      }
      return value;
    },
    file: async (path) => {
      try {
        return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
      } catch (err) {
        throw new SecretReferenceError(`cannot read file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    },
    ...options.schemes,
  };
  return {
    async resolve(ref, field) {
      const m = typeof ref === 'string' ? REF_PATTERN.exec(ref) : null;
      const scheme = m?.[1]?.toLowerCase();
      const resolver = scheme ? schemes[scheme] : undefined;
      if (!m || !resolver) {
        throw new SecretReferenceError(
          `${field} must be a secret reference (${Object.keys(schemes)
            .map((s) => `${s}:…`)
            .join(', ')}), not a literal value or an unknown scheme`,
        );
      }
      try {
        return new Secret(await resolver(m[2] as string));
      } catch (err) {
        if (err instanceof SecretReferenceError) {
          throw new SecretReferenceError(`${field} (${scheme}:…): ${err.message}`);
        }
        throw new SecretReferenceError(`${field} (${scheme}:…): resolver failed: ${(err as Error).message}`);
      }
    },
  };
}
