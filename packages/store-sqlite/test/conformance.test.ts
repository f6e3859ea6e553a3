import { describeStoreConformance } from '@pgqrs/store-conformance'
import { sqliteHarness } from './harness.js'

describeStoreConformance(sqliteHarness)
