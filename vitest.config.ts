import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // CLI and worker tests run dist/: refuse to start when it is older than src/.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // 2-core machines: two forks keep the ONNX-heavy suites from starving each other.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
