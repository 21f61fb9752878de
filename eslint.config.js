// ESLint: correctness rules for TypeScript and Svelte 5, plus the import boundaries of docs/architecture.md.
// Formatting is Prettier's job (npm run format); nothing here argues about layout.
import js from '@eslint/js';
import globals from 'globals';
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';

/** `no-restricted-imports` patterns: a folder may not reach into another. */
const forbid = (...groups) => ({
  'no-restricted-imports': ['error', { patterns: groups.map(([group, message]) => ({ group, message })) }],
});
const SERVER = [['**/server/**'], 'server code stays on the server: share it through shared/'];
const WEB = [['**/web/**'], 'the page is not imported by the server or shared/'];
const ZEROMQ = [['zeromq'], 'only the engines (server/pipeline, server/engine) and server/workers speak ZeroMQ'];
const FASTIFY = [['fastify', '@fastify/*'], 'only server/http and server/app.ts know Fastify'];
const NODE = [['node:*'], 'shared/ and web/ run in the browser too: no Node built-ins'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'test-results/', 'scratch/', '**/.*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // The page keeps reactive collections as $state.raw arrays and records; the Sets and URLs it builds are local
      // values that never need to be reactive, which this rule cannot tell apart.
      'svelte/prefer-svelte-reactivity': 'off',
      // {' · '} keeps the spaces of an SVG text line exact, whatever the formatter does with the lines around it.
      'svelte/no-useless-mustaches': 'off',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  // The boundaries. Tests, e2e and benchmarks drive real sockets and the real server, so they are exempt.
  { files: ['shared/**'], ignores: ['**/*.test.ts'], rules: forbid(SERVER, WEB, ZEROMQ, FASTIFY, NODE) },
  { files: ['web/**'], ignores: ['**/*.test.ts'], rules: forbid(SERVER, ZEROMQ, FASTIFY, NODE) },
  { files: ['server/**'], ignores: ['**/*.test.ts'], rules: forbid(WEB) },
  {
    files: ['server/http/**', 'server/app.ts', 'server/main.ts'],
    ignores: ['**/*.test.ts'],
    rules: forbid(WEB, ZEROMQ),
  },
  {
    files: ['server/pipeline/**', 'server/engine/**', 'server/recorder/**', 'server/workers/**'],
    ignores: ['**/*.test.ts'],
    rules: forbid(WEB, FASTIFY),
  },
);
