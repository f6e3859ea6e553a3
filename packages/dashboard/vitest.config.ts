import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
    // two files at a time: each browser file starts one headless Chromium (2 cores on CI machines)
    maxWorkers: 2,
    // the tests load the built package (dist/), as users do; build it once before any file runs
    globalSetup: ['./test/global-setup.ts'],
    // generous: the browser tests share 2 cores with everything else on a CI machine
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
