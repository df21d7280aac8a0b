// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** What workflow code (and the pure modules it imports) must not import. */
const workflowPaths = [
  ...nodeBuiltins.map((name) => ({
    name,
    message: 'Workflow code must not import Node built-ins (non-deterministic I/O).',
  })),
  { name: 'undici', message: 'Workflow code must not do HTTP: call an activity.' },
  { name: '@temporalio/activity', message: 'Workflow code must not import the activity SDK.' },
  { name: '@temporalio/client', message: 'Use @temporalio/workflow inside workflows.' },
  { name: '@temporalio/worker', message: 'Use @temporalio/workflow inside workflows.' },
];
const workflowPatterns = [
  {
    group: ['**/activities', '**/activities/**', '../activities*'],
    allowTypeImports: true,
    message: 'Workflows may only `import type` from activities.',
  },
  { group: ['undici/**'], message: 'Workflow code must not do HTTP: call an activity.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.temporal/**', 'coverage/**', 'bin/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no activity implementations.
    // The contract floor (src/contract/: runbook document, report, inputs, messages) and the Nexus
    // service definition are imported by workflows, so the same holds for them.
    files: ['workflows/**/*.ts', 'src/contract/**/*.ts', 'src/nexus/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: workflowPaths, patterns: workflowPatterns }] },
  },
  {
    // The contract floor is shared by every other floor, so it stays plain definitions: zod schemas
    // and @temporalio/workflow's define* only, no other package (README "Architecture").
    files: ['src/contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: workflowPaths,
          patterns: [
            ...workflowPatterns,
            {
              regex: '^(?!zod$|@temporalio/workflow$|\\.).+',
              message: 'The contract floor (src/contract/) imports only zod and @temporalio/workflow.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
