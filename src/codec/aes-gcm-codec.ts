/**
 * An AES-256-GCM {@link PayloadCodec}: every payload (metadata and data, serialised as the
 * `temporal.api.common.v1.Payload` protobuf) is encrypted into a new payload whose metadata says
 * `encoding: binary/encrypted` and `encryption-key-id: <id>`, after Temporal's encryption sample
 * (https://docs.temporal.io/production-deployment/data-encryption). Codecs run in the client
 * and the worker outside the workflow sandbox, so `node:crypto` is fine here.
 *
 * Encrypted data: 12-byte random IV, ciphertext, 16-byte GCM tag; the key id is the additional
 * authenticated data, so a payload cannot be relabelled to another key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec, ValueError } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { CodecKeyring } from './keys';

/** `encoding` of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata key holding the id of the key that encrypted a payload. */
export const METADATA_ENCRYPTION_KEY_ID = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A payload this process cannot decrypt: unknown key id, or the data does not authenticate. */
export class PayloadDecryptionError extends ValueError {
  override readonly name = 'PayloadDecryptionError';
  constructor(
    message: string,
    /** The key id the payload names (not secret). */
    readonly keyId?: string,
  ) {
    super(message);
  }
}

const utf8 = (b: Uint8Array | null | undefined): string | undefined =>
  b ? Buffer.from(b).toString('utf8') : undefined;

/** The AES-256-GCM payload codec over a {@link CodecKeyring} (the first key encrypts, all decrypt). */
export class AesGcmCodec implements PayloadCodec {
  constructor(readonly keys: CodecKeyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keys.encryptKeyId;
    const key = this.keys.key(keyId)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(keyId, 'utf8'));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
          [METADATA_ENCRYPTION_KEY_ID]: Buffer.from(keyId),
        },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (utf8(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
      const keyId = utf8(payload.metadata?.[METADATA_ENCRYPTION_KEY_ID]);
      if (!keyId)
        throw new PayloadDecryptionError(`an encrypted payload has no ${METADATA_ENCRYPTION_KEY_ID} metadata`);
      const key = this.keys.key(keyId);
      if (!key)
        throw new PayloadDecryptionError(
          `payload encrypted with key id "${keyId}", which ${this.keys.source} does not have (it has: ${this.keys.ids.join(', ')}); add that key after the current one to decrypt it`,
          keyId,
        );
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES)
        throw new PayloadDecryptionError(`encrypted payload (key id "${keyId}") is truncated`, keyId);
      try {
        const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(keyId, 'utf8'));
        decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return temporal.api.common.v1.Payload.decode(plain);
      } catch {
        throw new PayloadDecryptionError(
          `payload with key id "${keyId}" does not decrypt: ${this.keys.source} has a different key under that id, or the payload was altered`,
          keyId,
        );
      }
    });
  }
}
