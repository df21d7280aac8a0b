/**
 * The names everything else is spelled with: the products, the default task queue, and how long an
 * appliance name may be. Pure constants, so every floor can import them.
 */

/** The products this package backs up and restores, as runbooks, results and reports name them. */
export const PRODUCTS = ['vcenter', 'sddc-manager', 'vcda'] as const;
/** One of {@link PRODUCTS}: the only product union (results, reports and runbooks alias it). */
export type Product = (typeof PRODUCTS)[number];

/** Default task queue of this package's workflows and activities (worker and clients). */
export const DEFAULT_TASK_QUEUE = 'vmware-dr';

/** Longest appliance name: it travels in step ids, workflow results, logs and search attributes. */
export const MAX_NAME_LENGTH = 64;
