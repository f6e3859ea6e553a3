import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
    // one PostgreSQL database per run; the report is written at teardown
    globalSetup: ['./test/global-setup.ts'],
    // files run one after another: they fork processes, kill them and measure leases
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
  },
})
