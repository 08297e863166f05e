import { join } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const lib = (name: string): string => join(import.meta.dirname, 'libs', name, 'src', 'index.ts');

// SWC compiles the tests so decorator metadata (Nest DI, class-validator) matches tsc's output.
const plugins = [
  swc.vite({
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
    },
  }),
];

const alias = {
  '@libs/ers-contract': lib('ers-contract'),
  '@libs/ers-client': lib('ers-client'),
  '@libs/session-store': lib('session-store'),
  '@libs/config': lib('config'),
};

export default defineConfig({
  plugins,
  resolve: { alias },
  test: {
    // Two cores: one worker per core; system tests start their own processes.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['apps/**/*.spec.ts', 'libs/**/*.spec.ts'],
          testTimeout: 20_000,
        },
      },
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'system',
          include: ['test/**/*.test.ts', 'libs/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // System tests start redis-server and node processes; keep them from fighting for 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
