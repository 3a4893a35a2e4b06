// @ts-check
import eslint from '@eslint/js';
import vitest from '@vitest/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.slotwatch/', 'coverage/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The bundle boundary: lambda/ is what ships in the two Lambda bundles, so it never reaches
    // into the local tools, the infrastructure, the benchmarks or the tests.
    files: ['lambda/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/tools/**', '**/infra/**', '**/bench/**', '**/test/**'],
              message: 'lambda/ ships in the Lambda bundles and never imports from outside it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    plugins: { vitest },
    rules: {
      'vitest/no-focused-tests': 'error',
      'vitest/no-disabled-tests': 'error',
      // CDK's Template assertions throw on a mismatch, fast-check's fc.assert on a
      // counterexample: they are assertions too.
      'vitest/expect-expect': [
        'error',
        {
          assertFunctionNames: [
            'expect',
            '*.hasResourceProperties',
            '*.hasResource',
            '*.resourceCountIs',
            '*.hasOutput',
            'fc.assert',
          ],
        },
      ],
    },
  },
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
