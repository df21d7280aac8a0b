/**
 * `errorFromResponse`: the error for an appliance's HTTP error answer when the caller holds only
 * the product's name and its raw code (the package's public classifier). Each product maps its own
 * codes (`src/<product>/errors.ts`) and the core classifies without knowing any product
 * (`src/core/classify.ts`); products never import one another, so the table that picks the
 * product's map lives here, above them. The clients never come here: their `parseError` sets the
 * error type itself.
 */
import { classifyResponse } from '../src/core/classify';
import type { ErrorContext, ErrorProduct, ErrorType, VmwareApiError } from '../src/core/errors';
import { nsxManagerErrorType } from '../src/nsx-manager/errors';
import { sddcManagerErrorType } from '../src/sddc-manager/errors';
import { vcdaErrorType } from '../src/vcda/errors';
import { vcenterErrorType } from '../src/vcenter/errors';

/** Each product's code → error type reading. */
const PRODUCT_ERROR_TYPES: Readonly<Record<ErrorProduct, (code: string | undefined) => ErrorType | undefined>> = {
  vcenter: vcenterErrorType,
  'sddc-manager': sddcManagerErrorType,
  vcda: vcdaErrorType,
  'nsx-manager': nsxManagerErrorType,
};

/**
 * The error for an HTTP error answer. `ctx.vmwareCode` is the product's own code when the body
 * had one (vAPI type, SDDC Manager `errorCode`, VCDA `code`), read with that product's map; an
 * `errorType` already read wins. A 401 is an authentication failure whatever the body says.
 */
export function errorFromResponse(ctx: ErrorContext & { httpStatus: number; errorType?: ErrorType }): VmwareApiError {
  // Without a product the named codes of SDDC Manager and VCDA are read, as before the split.
  const errorType = ctx.errorType ?? PRODUCT_ERROR_TYPES[ctx.product ?? 'sddc-manager'](ctx.vmwareCode);
  return classifyResponse({ ...ctx, errorType });
}
