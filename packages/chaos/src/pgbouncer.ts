/**
 * PgBouncer (Debian package `pgbouncer`) in transaction mode on a loopback port, in front of a
 * PostgreSQL server. Installed with `apt-get install -y pgbouncer` when it is missing and we are
 * root; when it cannot be had, {@link ensurePgbouncer} throws with the reason (the tests then fail:
 * they never skip).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { describeExit, spawnCollected, waitForExit } from './bounded-process.ts'
import { userIds } from './postgres-install.ts'

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']

function which(): string | null {
  const onPath = spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' })
  if (onPath.status === 0 && onPath.stdout.trim()) return onPath.stdout.trim()
  return CANDIDATES.find((p) => fs.existsSync(p)) ?? null
}

/** The pgbouncer binary, installing the Debian package if needed (root only). */
export function ensurePgbouncer(): { path: string; installed: boolean; version: string } {
  let bin = which()
  let installed = false
  if (!bin) {
    if (process.getuid?.() !== 0) {
      throw new Error(
        'pgbouncer is not installed and this process is not root: run `apt-get install -y pgbouncer` first',
      )
    }
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const install = () =>
      spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'pgbouncer'], {
        env,
        encoding: 'utf8',
        timeout: 300_000,
      })
    let r = install()
    if (r.status !== 0) {
      // the package lists may be missing or stale
      spawnSync('apt-get', ['update'], { env, encoding: 'utf8', timeout: 300_000 })
      r = install()
    }
    bin = which()
    if (!bin) {
      throw new Error(
        `pgbouncer could not be installed with apt-get (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').slice(-3).join(' | ')}`,
      )
    }
    installed = true
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim()
  return { path: bin, installed, version }
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

export interface Bouncer {
  readonly port: number
  /** `postgres://user@127.0.0.1:port/db` through the bouncer. */
  url(database: string): string
  stop(): Promise<void>
  /** The last lines of its log. */
  log(): string
}

/**
 * Starts pgbouncer (transaction mode, `auth_type = any`: every database logs in to `upstream` as
 * `user`) on a free loopback port. PgBouncer refuses to run as root, so as root it runs as the
 * `postgres` (or `nobody`) user.
 */
export async function startPgbouncer(
  bin: string,
  upstream: { host: string; port: number; user: string; password?: string },
  poolMode: 'transaction' | 'session' = 'transaction',
): Promise<Bouncer> {
  const port = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgqrs-chaos-bouncer-'))
  const ini = path.join(dir, 'pgbouncer.ini')
  const logFile = path.join(dir, 'pgbouncer.log')
  const pw = upstream.password ? ` password=${upstream.password}` : ''
  fs.writeFileSync(
    ini,
    [
      '[databases]',
      `* = host=${upstream.host} port=${upstream.port} user=${upstream.user}${pw}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = any',
      `pool_mode = ${poolMode}`,
      'max_client_conn = 500',
      'default_pool_size = 20',
      'ignore_startup_parameters = extra_float_digits,options,statement_timeout',
      `logfile = ${logFile}`,
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  )
  // As root it runs as `postgres` (else `nobody`): everything it reads or writes is in `dir`,
  // under os.tmpdir(), never in the checkout (which may sit under a mode-700 home).
  const root = process.getuid?.() === 0
  const as = root ? (userIds('postgres') ?? userIds('nobody')) : null
  if (as) fs.chownSync(dir, as.uid, as.gid)
  for (const f of fs.readdirSync(dir)) if (as) fs.chownSync(path.join(dir, f), as.uid, as.gid)
  fs.chmodSync(dir, 0o755)
  const { child, output } = spawnCollected(bin, [ini], as ?? {})
  let failure: string | null = null
  child.once('error', (e: NodeJS.ErrnoException) => {
    failure = `cannot run ${bin}${as ? ` as uid ${as.uid}` : ''}: ${e.code ?? e.message}`
  })
  child.once('exit', (code, signal) => {
    failure ??= `pgbouncer ${describeExit(code, signal)}`
  })
  // wait (at most 10 s) until it accepts connections; fail at once if it exits
  const deadline = Date.now() + 10_000
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) break
    if (failure || Date.now() > deadline) {
      child.kill('SIGKILL')
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''
      fs.rmSync(dir, { recursive: true, force: true })
      throw new Error(
        `pgbouncer did not start: ${failure ?? 'no connection within 10 s (killed)'}; its output: ${output.text()} ${log}`.slice(
          0,
          2_000,
        ),
      )
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    port,
    url: (database) => `postgres://${upstream.user}@127.0.0.1:${port}/${database}`,
    log: () =>
      fs.existsSync(logFile)
        ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n')
        : '',
    async stop() {
      child.kill('SIGINT')
      await waitForExit(child, 5_000)
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}
