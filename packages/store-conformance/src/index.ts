export type { StoreHarness } from './harness.js'
