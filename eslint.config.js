// Lint, including the layering rule from docs/architecture.md: the pure core never imports
// an edge module or Node's I/O, and no module reaches past another module's index.ts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const CORE = ['errors', 'net', 'ipam', 'resources', 'selector', 'policy', 'calc', 'dataplane', 'rbac'];
const EDGES = ['store', 'api', 'client', 'agent', 'flows', 'lab', 'nft', 'cli', 'console', 'auth', 'audit', 'alerts', 'collector', 'demo'];

const throughIndexOnly = {
  regex: '^(\\.\\./)+(' + [...CORE, ...EDGES].join('|') + ')/(?!index\\.js$).+',
  message: "Import another module only through its index.js.",
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'console/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [throughIndexOnly] }],
    },
  },
  {
    files: CORE.map((m) => `src/${m}/**/*.ts`),
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          throughIndexOnly,
          { regex: '^(\\.\\./)+(' + EDGES.join('|') + ')(/|$)', message: 'The pure core must not import an edge module.' },
          { regex: '^(node:|fs$|path$|child_process$|net$|http$|https$|os$|dgram$|worker_threads$)', message: 'The pure core does no I/O.' },
        ],
      }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', 'bin/*'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
