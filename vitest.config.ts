import { defineConfig } from 'vitest/config';

// The forker's tests are grouped by feature (test/<feature>/<kind>/), the offline cloud's beside its modules
// (offline/**); each kind is one project, with the setup it needs.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/*/unit/**/*.test.ts'],
          setupFiles: ['test/support/lambda-environment.ts'],
        },
      },
      {
        test: {
          name: 'template',
          // The rules over template.yaml, and a feature's own cases of them (test/chat/template/).
          include: ['test/template/**/*.test.ts', 'test/*/template/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/*/integration/**/*.test.ts'],
          globalSetup: ['test/support/dynamodb-local.ts'],
          setupFiles: ['test/support/lambda-environment.ts'],
          testTimeout: 20_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/*/e2e/**/*.test.ts'],
          globalSetup: ['test/support/offline-cloud.ts', 'test/support/chromium.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/*/faults/**/*.test.ts'],
          // Each file starts a whole offline cloud of its own (a DynamoDB Local JVM included): one at a time.
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // The README's recipes applied to copies of the repository, each booting its own offline cloud.
          name: 'recipes',
          include: ['test/recipes/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'offline',
          include: ['offline/**/*.test.ts'],
          exclude: ['offline/cli/**'],
          setupFiles: ['test/support/lambda-environment.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // The real `npm run dev` and `npm run token` as child processes: no setup that changes the environment.
          name: 'offline-cli',
          include: ['offline/cli/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
