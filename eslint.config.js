// One lint setup for the whole monorepo: typescript-eslint with type-aware rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'packages/proto/src/gen/**', '**/*.cjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['eslint.config.js', 'packages/cli/bin/catmesh.js'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ExportAllDeclaration',
          message: 'List the public API explicitly (see ARCHITECTURE.md): no `export *`.',
        },
      ],
    },
  },
  {
    // Rule 2 of ARCHITECTURE.md: the Raft core does no I/O, so it can be simulated deterministically.
    files: ['packages/raft/src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^node:', message: 'The Raft core does no I/O: no node:* imports.' },
            {
              regex:
                '^(fs|path|os|net|dgram|child_process|crypto|timers|worker_threads|http|https|events)$',
              message: 'The Raft core does no I/O: no Node.js built-ins.',
            },
            { regex: '^@grpc/', message: 'The Raft core does no I/O: no gRPC.' },
            { regex: '^nats', message: 'The Raft core does no I/O: no NATS.' },
            { regex: '^@catmesh/', message: 'The Raft core depends on nothing but itself.' },
            {
              regex: '^\\.\\./(?!core/)',
              message: 'The Raft core must not import storage or transport.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Time enters the Raft core only through tick().' },
        { name: 'setInterval', message: 'Time enters the Raft core only through tick().' },
        { name: 'Date', message: 'Time enters the Raft core only through tick().' },
        { name: 'process', message: 'The Raft core does no I/O.' },
        { name: 'performance', message: 'Time enters the Raft core only through tick().' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message: 'Randomness is injected into the Raft core (seeded).',
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts', '**/bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
