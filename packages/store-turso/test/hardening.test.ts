// Issue 13 on Turso: an unreachable remote database is a ConnectionError (not a StoreError "fetch
// failed"), and its auth token never shows in an error, a cause or inspect output.
import { createServer } from 'node:net'
import { inspect } from 'node:util'
import { ConnectionError, connect } from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import { TursoStore } from '../src/index.js'

const TOKEN = 'tok-0123456789abcdef'

/** A loopback port nothing listens on (it was free a moment ago): connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
const everything = (e: unknown) => `${inspect(e, { depth: 20, showHidden: true })} ${String(e)}`

describe('turso: hardening', () => {
  it('an unreachable remote database is a ConnectionError and the token is never shown', async () => {
    const port = await closedPort()
    const store = await connect(`libsql://127.0.0.1:${port}?authToken=${TOKEN}`, { logger: false })
    try {
      const e = await store.queues.list().then(
        () => null,
        (err: unknown) => err,
      )
      expect(ConnectionError.is(e), everything(e)).toBe(true)
      expect(everything(e)).not.toContain(TOKEN)
      expect(inspect(store, { depth: 20 })).not.toContain(TOKEN)
    } finally {
      await store.close()
    }
  })

  it('a URL holding its token is masked in the errors the store builds', async () => {
    const store = new TursoStore({ url: `libsql://127.0.0.1:1?authToken=${TOKEN}`, logger: false })
    try {
      const e = await store.migrate().then(
        () => null,
        (err: unknown) => err,
      )
      expect(e).not.toBeNull()
      expect(everything(e)).not.toContain(TOKEN)
    } finally {
      await store.close()
    }
  })
})
