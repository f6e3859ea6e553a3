import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
    maxWorkers: 2,
    // the tests spawn the built binary (dist/cli.js); build it once before any file runs
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 20_000,
  },
})
