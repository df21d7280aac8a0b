/**
 * Runbook endpoints for simulated appliances: the block every end-to-end test would otherwise
 * write by hand (product, the appliance's URL and user, a password reference, its CA file).
 * `src/rehearsal/index.ts` does the same mapping for a rehearsed document (with its own references).
 */
import type { RunbookEndpoint } from '../../src/contract/runbook/document';
import type { Product } from '../../src/contract/names';
import type { ApplianceInfo } from '../../src/simulator/server';

/** The runbook endpoint of one product. */
export type SimulatedEndpoint<P extends Product> = Extract<RunbookEndpoint, { product: P }>;

/**
 * The runbook endpoint of a simulated appliance (an entry of `sim.info.vcenter`, `.sddcManager`
 * or `.vcda`): its URL and user, the password by reference (`env:NAME`, which the test sets to the
 * appliance's password), TLS verified against the simulator's CA.
 */
export function simulatedEndpoint<P extends Product>(
  product: P,
  appliance: Pick<ApplianceInfo, 'url' | 'username' | 'caFile'>,
  passwordRef: string,
): SimulatedEndpoint<P> {
  if (appliance.caFile === undefined)
    throw new Error(`simulatedEndpoint: ${appliance.url} has no caFile; start the simulator on HTTPS (the default)`);
  return {
    product,
    url: appliance.url,
    username: appliance.username,
    passwordRef,
    tls: { caFile: appliance.caFile },
  } as SimulatedEndpoint<P>;
}
