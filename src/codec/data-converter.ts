/**
 * The data converter of client, worker and CLI when payload encryption keys are configured: the
 * AES-256-GCM codec plus a failure converter that moves failure messages and stack traces into
 * encrypted payloads. In SDK 1.24 a `DataConverter` names its failure converter by module path
 * (`failureConverterPath`); the worker loads that module for activities and bundles it into the
 * workflow sandbox when it bundles `workflowsPath` itself.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { AesGcmCodec } from './aes-gcm-codec';
import { type CodecKeyring, loadCodecKeys } from './keys';

/**
 * Path of the module exporting the `encodeCommonAttributes` failure converter (compiled `.js`,
 * or the `.ts` source under a TypeScript-aware loader).
 */
export const ENCODED_FAILURE_CONVERTER_PATH = ((): string => {
  try {
    return require.resolve('./failure-converter');
  } catch {
    const candidates = ['.js', '.ts'].map((ext) => join(__dirname, `failure-converter${ext}`));
    return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
  }
})();

/** `{ payloadCodecs: [AES-256-GCM codec], failureConverterPath }` for a client or a worker. */
export function encryptingDataConverter(keys: CodecKeyring): DataConverter {
  return { payloadCodecs: [new AesGcmCodec(keys)], failureConverterPath: ENCODED_FAILURE_CONVERTER_PATH };
}

/**
 * The encrypting data converter when the environment configures keys (`VMWARE_DR_CODEC_KEYS` or
 * `VMWARE_DR_CODEC_KEY_FILE`), else undefined (the SDK's default). Throws `CodecKeyError`.
 */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const keys = loadCodecKeys(env);
  return keys && encryptingDataConverter(keys);
}
