import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
    // one PostgreSQL database per run (test/global-setup.ts); each test file takes its own schema
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // files run one after another: the conformance suite forks processes and measures leases
    fileParallelism: false,
  },
})
