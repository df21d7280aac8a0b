// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

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
    // The runbook modules (schema, report) are imported by workflows, so the same holds for them.
    files: ['workflows/**/*.ts', 'src/runbook/**/*.ts', 'src/nexus/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflow code must not import Node built-ins (non-deterministic I/O).',
            })),
            { name: 'undici', message: 'Workflow code must not do HTTP: call an activity.' },
            { name: '@temporalio/activity', message: 'Workflow code must not import the activity SDK.' },
            { name: '@temporalio/client', message: 'Use @temporalio/workflow inside workflows.' },
            { name: '@temporalio/worker', message: 'Use @temporalio/workflow inside workflows.' },
          ],
          patterns: [
            {
              group: ['**/activities', '**/activities/**', '../activities*'],
              allowTypeImports: true,
              message: 'Workflows may only `import type` from activities.',
            },
            { group: ['undici/**'], message: 'Workflow code must not do HTTP: call an activity.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
