// Lint rules carry the architecture (STYLE.md): apps never import each other, libraries never
// import apps, only libs/config and main.ts read process.env, libraries are imported only
// through their root alias, and every promise is handled.
import globals from 'globals';
import tseslint from 'typescript-eslint';

const appImports = ['**/apps/*', '**/apps/**'];
const deepLibImports = ['@libs/*/*', '**/libs/*/src/**'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'apps/demo-spa/dist/**', '**/*.mjs', '!scripts/*.mjs', '**/*.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Only libs/config and main.ts read the environment.' }],
    },
  },
  {
    // Nest resolves constructor parameters from emitted metadata: `import type` would erase the
    // class a provider is injected by, so type-only imports are not forced in Nest code.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
  {
    files: ['apps/gateway/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/ers-sandbox/**', '**/demo-spa/**'], message: 'Apps never import each other; reach the sandbox over HTTP.' },
        { group: deepLibImports, message: 'Import a library through its root alias (@libs/name).' },
      ] }],
    },
  },
  {
    files: ['apps/ers-sandbox/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/gateway/**', '**/demo-spa/**'], message: 'Apps never import each other.' },
        { group: deepLibImports, message: 'Import a library through its root alias (@libs/name).' },
      ] }],
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: appImports, message: 'Libraries never import apps.' },
        { group: deepLibImports, message: 'Import a library through its root alias (@libs/name).' },
      ] }],
    },
  },
  {
    files: ['libs/ers-contract/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@nestjs/*', '@libs/*', ...appImports], message: 'ers-contract is pure TypeScript: no Nest, no other library.' },
      ] }],
    },
  },
  {
    files: ['libs/config/**/*.ts', 'apps/*/src/main.ts', 'test/**/*.ts', '**/*.spec.ts', '**/*.test.ts', 'vitest.config.mts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**/*.ts', '**/*.spec.ts', '**/*.test.ts', '**/testing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The project's own scripts (build, test, demo, bench) are plain ESM run by Node: linted
    // without type information, with Node's globals; they may read the environment.
    files: ['scripts/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-undef': 'error', 'no-restricted-properties': 'off', '@typescript-eslint/consistent-type-imports': 'off' },
  },
);
