/** Payload encryption: the AES-256-GCM codec, its keys, the data converter and the codec server. */
export { AesGcmCodec, ENCRYPTED_ENCODING, METADATA_ENCRYPTION_KEY_ID, PayloadDecryptionError } from './aes-gcm-codec';
export { ENCODED_FAILURE_CONVERTER_PATH, dataConverterFromEnv, encryptingDataConverter } from './data-converter';
export {
  CODEC_ENV_HELP,
  CODEC_KEYS_VARIABLE,
  CODEC_KEY_BYTES,
  CODEC_KEY_FILE_VARIABLE,
  CodecKeyError,
  CodecKeyring,
  loadCodecKeys,
  parseCodecKeys,
} from './keys';
export {
  type CodecServer,
  type CodecServerLogEntry,
  type CodecServerOptions,
  DEFAULT_CODEC_CORS_ORIGINS,
  DEFAULT_CODEC_SERVER_HOST,
  DEFAULT_CODEC_SERVER_PORT,
  startCodecServer,
} from './server';
