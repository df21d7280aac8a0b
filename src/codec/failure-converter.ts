/**
 * The failure converter of an encrypting data converter: `DefaultFailureConverter` with
 * `encodeCommonAttributes`, so a failure's message and stack trace travel in its
 * `encodedAttributes` payload (which the payload codec encrypts) and the history shows only
 * "Encoded failure" (https://typescript.temporal.io/api/classes/common.DefaultFailureConverter).
 * Loaded by path (`DataConverter.failureConverterPath`), also inside the workflow sandbox: it
 * imports nothing but `@temporalio/common`.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
