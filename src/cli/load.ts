/**
 * Loads a command's implementation when the command runs, not when the program is built: `--help`
 * and usage errors then load neither the Temporal worker nor the simulator, and a parse-only test
 * can import the program. Plain `require` (not `import()`) so it resolves the same way compiled,
 * under `tsx`, and under `node --require tsx/cjs` (how `bin/vmware-dr.js` runs a checkout).
 * Paths are relative to this folder.
 */
export function load<T>(id: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above: lazy, CommonJS on purpose
  return require(id) as T;
}

/**
 * {@link load} for a module of this package that tests also reach in-process (under vitest):
 * `require` there cannot read a `.ts` file, so when it finds nothing the module is imported by its
 * `.js` name, which vitest resolves to the source. `import()` alone is no answer: under
 * `tsx/cjs` (a checkout's `vmware-dr`) it goes to Node's ESM loader, which finds no `.js` file.
 */
export async function loadLocal<T>(id: string): Promise<T> {
  try {
    return load<T>(id);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    return (await import(`${id}.js`)) as T;
  }
}
