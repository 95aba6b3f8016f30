// Test projects: pure unit tests, CDK/infra tests (synth, no emulators) and integration tests that
// talk to DynamoDB Local and fauxqs, started once per run by the integration globalSetup.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default'],
    // Two files at a time. Vitest's default in run mode is one worker fewer than there are CPUs,
    // which is one on a 2-core machine: the whole suite ran file after file, though the end-to-end
    // files spend much of their time waiting on their runtimes. Measured: 244 s -> 164 s.
    maxWorkers: 2,
    // Handlers log and emit metrics to stdout; keep test output readable. Tests that check
    // logging or metrics spy on the Powertools instances instead.
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 1 },
          include: ['test/core/**/*.test.ts', 'test/unit/**/*.test.ts', 'test/dst/model.test.ts', 'test/capacity/**/*.test.ts'],
          isolate: false,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          // The files share one synthesis of each app (test/support/infra-apps.ts): bundling the
          // handlers is most of an infra run, so module state is shared across the project's files.
          isolate: false,
          // In one worker, one after the other: each worker would synthesize both apps anew. It
          // runs first, on its own (vitest runs a project with its own worker count as a group),
          // while the typecheck and the lint take the other core (scripts/test.mjs).
          fileParallelism: false,
          sequence: { groupOrder: 0 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts', 'test/api/**/*.test.ts'],
          isolate: false,
          globalSetup: ['test/support/emulators.global.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          // The deterministic simulator, run as a command (its own process): a few seeds, and a replay.
          name: 'simulation',
          sequence: { groupOrder: 1 },
          include: ['test/dst/simulation.test.ts'],
          testTimeout: 240_000,
        },
      },
      {
        test: {
          // Each file starts whole local runtimes (their own emulators) and drives them over HTTP.
          name: 'e2e',
          sequence: { groupOrder: 1 },
          include: ['test/e2e/**/*.test.ts'],
          isolate: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
