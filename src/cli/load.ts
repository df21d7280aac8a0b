/**
 * Loads a command's implementation when the command runs, not when the program is built: `--help`
 * and usage errors then load neither the Temporal worker nor the simulator, and a parse-only test
 * can import the program. Plain `require` (not `import()`) so it resolves the same way compiled,
 * under `tsx`, and under `node --require tsx/cjs`. Paths are relative to this folder.
 */
export function load<T>(id: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above: lazy, CommonJS on purpose
  return require(id) as T;
}
