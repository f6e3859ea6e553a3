import { describeStoreConformance } from '@pgqrs/store-conformance'
import { tursoHarness } from './harness.js'

describeStoreConformance(tursoHarness)
