import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './scripts/eslint-layer-rule.js';

/**
 * src/'s layers (docs/architecture.md "Layers"): what each folder may import of ours. `may`: any
 * import; `types`: `import type` only (the ports an adapter implements or a layer is handed);
 * an entry ending in .ts allows that one file. `pure`: no I/O module (node:fs, net, http,
 * child_process ...) and no package but PURE_PACKAGES. A folder not in this table fails the lint until it is
 * given a row. Unit tests (*.test.ts) may import anything but src/bin/.
 */
const LEAVES = ['json', 'log', 'names', 'wire'];
/** Packages that compute and touch nothing, which a pure layer may import: the schema library. */
const PURE_PACKAGES = ['valibot'];
const STANDARDS = [...LEAVES, 'spec', 'cni'];
const LAYERS = {
  json: { may: [], pure: true },
  log: { may: [], pure: true },
  names: { may: [], pure: true },
  wire: { may: [], pure: true },
  spec: { may: ['json', 'names'], pure: true },
  cni: { may: ['json', 'names'], pure: true },
  config: { may: STANDARDS, pure: true },
  engine: { may: [...STANDARDS, 'config'], types: ['k8s'], pure: true },
  thin: { may: [...STANDARDS, 'config', 'engine'], types: ['k8s', 'host'], pure: true },
  k8s: { may: STANDARDS },
  local: { may: [...STANDARDS, 'k8s', 'host'] },
  host: { may: [...STANDARDS, 'config', 'k8s'], types: ['engine'] },
  shim: { may: ['wire', 'cni/versions.ts'] },
  daemon: { may: [...STANDARDS, 'config', 'engine', 'host/private-dir.ts'], types: ['k8s', 'host'] },
  webhook: { may: [...STANDARDS, 'config', 'engine', 'k8s', 'daemon/health.ts', 'daemon/read-body.ts'] },
  cli: { may: [...STANDARDS, 'config', 'engine', 'k8s', 'local', 'host'] },
  bin: { may: ['*'] },
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'tools/bin/', 'tools/.cache/', 'bench/results/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    plugins: { layers },
    rules: { 'layers/layers': ['error', { layers: LAYERS, purePackages: PURE_PACKAGES }] },
  },
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Only src/bin reads process.env; pass values in.',
        },
      ],
    },
  },
  {
    files: ['src/bin/**', 'test/**', 'bench/**', 'scripts/**', 'tools/**', '*.js', '*.mjs'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
