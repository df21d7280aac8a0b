// Values provided by test/support/global-setup.ts, read in tests with `inject(...)`.
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the Temporal dev server shared by the whole test run. */
    temporalAddress: string;
    /** Namespace on that server (search attributes from src/contract/visibility.ts are registered in it). */
    temporalNamespace: string;
    /** Path of the pre-built workflow bundle: pass `workflowBundle: { codePath }` to `Worker.create`. */
    workflowBundlePath: string;
    /**
     * The Web UI of that server (`http://127.0.0.1:<port>`), or TEMPORAL_UI_URL when TEMPORAL_ADDRESS names
     * the server; undefined when there is none.
     */
    temporalUiUrl: string | undefined;
  }
}
