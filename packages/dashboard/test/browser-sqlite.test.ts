import { describeBrowserSuite } from './browser-suite.js'
import { sqliteStore } from './harness.js'

describeBrowserSuite({ name: 'SQLite', skipReason: '', create: sqliteStore, screenshots: false })
