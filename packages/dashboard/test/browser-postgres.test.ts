import { describeBrowserSuite } from './browser-suite.js'
import { pgSkipReason, postgresStore } from './harness.js'

describeBrowserSuite({
  name: 'PostgreSQL',
  skipReason: pgSkipReason,
  create: postgresStore,
  screenshots: true,
})
