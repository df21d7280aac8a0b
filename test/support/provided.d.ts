// Values provided by test/support/global-setup.ts, read in tests with `inject(...)`.
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the Temporal dev server shared by the whole test run. */
    temporalAddress: string;
    /** Namespace on that server (search attributes from src/search-attributes.ts are registered in it). */
    temporalNamespace: string;
    /** Path of the pre-built workflow bundle: pass `workflowBundle: { codePath }` to `Worker.create`. */
    workflowBundlePath: string;
  }
}
