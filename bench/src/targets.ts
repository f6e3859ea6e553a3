// Fresh database objects per measurement: a Postgres schema (created by the system's install,
// dropped here after) or a database file in a temporary directory (deleted after).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { Subject, Target } from './types.ts'

const PREFIX = 'pgqrs_bench_'
const QUEUE = 'bench'

const SHORT = { pgqrs: 'pgqrs', 'pg-boss': 'pgboss', 'graphile-worker': 'graphile' } as const

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Hands out targets and removes them; one per runner process. */
export class Targets {
  readonly #url: string
  readonly #client: pg.Client
  readonly #dir = mkdtempSync(join(tmpdir(), 'pgqrs-bench-'))
  readonly #live = new Set<Target>()
  #n = 0

  private constructor(url: string, client: pg.Client) {
    this.#url = url
    this.#client = client
  }

  static async open(url: string): Promise<Targets> {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const t = new Targets(url, client)
    await t.#dropLeftovers()
    return t
  }

  /** The admin connection (server settings for the report). */
  get client(): pg.Client {
    return this.#client
  }

  /** Schemas of earlier runs whose runner process is gone (a killed run). */
  async #dropLeftovers(): Promise<void> {
    const r = await this.#client.query<{ nspname: string }>(
      `select nspname from pg_namespace where nspname like '${PREFIX}%'`,
    )
    for (const { nspname } of r.rows) {
      const pid = Number(nspname.slice(PREFIX.length).split('_')[0])
      if (Number.isInteger(pid) && pid !== process.pid && !alive(pid))
        await this.#dropSchema(nspname)
    }
  }

  async #dropSchema(schema: string): Promise<void> {
    await this.#client.query(`drop schema if exists "${schema}" cascade`)
  }

  /** Runs ANALYZE on every table of the target's schema (the sqlite family: nothing). */
  async analyze(target: Target): Promise<void> {
    if (target.backend !== 'postgres') return
    const r = await this.#client.query<{ t: string }>(
      `select format('%I.%I', schemaname, tablename) as t from pg_tables where schemaname = $1`,
      [target.schema],
    )
    for (const { t } of r.rows) await this.#client.query(`analyze ${t}`)
  }

  /** A new schema name (not created: each system's install creates its own) or a new file. */
  create(subject: Subject): Target {
    const n = ++this.#n
    const schema = `${PREFIX}${process.pid}_${n}_${SHORT[subject.system]}`
    const file =
      subject.backend === 'postgres' ? null : join(this.#dir, `${schema}.${subject.backend}.db`)
    const target: Target = { backend: subject.backend, url: this.#url, schema, file, queue: QUEUE }
    this.#live.add(target)
    return target
  }

  async dispose(target: Target): Promise<void> {
    this.#live.delete(target)
    if (target.file) {
      for (const suffix of ['', '-wal', '-shm', '-journal'])
        rmSync(target.file + suffix, { force: true })
    } else {
      await this.#dropSchema(target.schema)
    }
  }

  /** Removes whatever is still live (after an interrupt), the temporary directory and the connection. */
  async close(): Promise<void> {
    for (const t of [...this.#live]) await this.dispose(t).catch(() => {})
    rmSync(this.#dir, { recursive: true, force: true })
    await this.#client.end()
  }
}
