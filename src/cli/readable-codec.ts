/**
 * The payload codec of `vmware-dr`'s client: the client's own codecs (the encrypting one when keys
 * are configured), with every payload they cannot decode, or that stays encrypted because there
 * is no codec, read as a marker value saying why (./readable.ts) instead of an error.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { ENCRYPTED_ENCODING } from '../codec/aes-gcm-codec';
import { NO_KEYS_REASON, UNREADABLE_KEY } from './readable';

const utf8 = (b: Uint8Array | null | undefined): string => (b ? Buffer.from(b).toString('utf8') : '');

/** The marker payload (plain JSON) for a payload that cannot be read, saying why. */
function marker(reason: string): Payload {
  return {
    metadata: { encoding: Buffer.from('json/plain') },
    data: Buffer.from(JSON.stringify({ [UNREADABLE_KEY]: reason })),
  };
}

/**
 * The client's codecs (applied as the SDK does: encode in order, decode in reverse), with every
 * payload they cannot decode, or that stays encrypted (no codec), read as a marker value.
 */
export class ReadableCodec implements PayloadCodec {
  constructor(private readonly codecs: readonly PayloadCodec[] = []) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    let out = payloads;
    for (const codec of this.codecs) out = await codec.encode(out);
    return out;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((p) => this.decodeOne(p)));
  }

  private async decodeOne(payload: Payload): Promise<Payload> {
    let out = [payload];
    try {
      for (const codec of [...this.codecs].reverse()) out = await codec.decode(out);
    } catch (err) {
      return marker(`the run's payloads cannot be decrypted: ${(err as Error).message}`);
    }
    const decoded = out[0]!;
    return utf8(decoded.metadata?.encoding) === ENCRYPTED_ENCODING ? marker(NO_KEYS_REASON) : decoded;
  }
}
