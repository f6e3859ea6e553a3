// The pure-SQL ceiling of pgqrs's own schema: the statement the worker sends per batch
// (`pgqrs_settle_dequeue`: archive the finished batch and claim the next, one round trip and one
// commit) called in a loop over plain `pg` with a named prepared statement, no library around it.
// As many loops per process as the pgqrs worker has claim lanes for the same options, each on its
// own connection. What the worker adds on top (events, leases renewed, handlers, validation) is the
// gap between this row and the worker's.
import pg from 'pg'
import type { Payload, Target } from '../types.ts'
import { sleep } from '../util.ts'
import type { ConsumeOptions, Running } from './system.ts'

const LEASE_MS = 30_000

export async function startSqlLoops(
  target: Target,
  maxConnections: number,
  o: ConsumeOptions,
): Promise<Running> {
  const concurrency = o.concurrency ?? o.batch
  const perConsumer = Math.min(
    Math.ceil((concurrency + (o.prefetch ?? 0)) / o.batch),
    Math.max(1, maxConnections - 1),
  )
  const lanes = perConsumer * o.consumers
  const pool = new pg.Pool({ connectionString: target.url, max: lanes })
  const schema = `"${target.schema}"`
  // As the worker: no result, and each message's start time (claim time = visible_at - lease).
  const text = `select s.*
    from ${schema}.pgqrs_settle_dequeue($1::bigint[], $2::uuid[], false, $3, $4::int,
      $5::double precision, null::bigint, $6::jsonb[], $7::timestamptz[]) s`
  let stopping = false
  const loop = async () => {
    const client = await pool.connect()
    try {
      let ids: string[] = []
      let leases: string[] = []
      let started: Date[] = []
      while (!stopping) {
        const r = await client.query<{
          settled: string | null
          id: string
          lease: string
          payload: Payload
          visible_at: Date
        }>({
          name: 'settle_dequeue',
          text,
          values: [ids, leases, target.queue, o.batch, LEASE_MS, ids.map(() => null), started],
        })
        ids = []
        leases = []
        started = []
        for (const row of r.rows) {
          if (row.settled !== null) continue
          o.onMessage(row.payload)
          ids.push(row.id)
          leases.push(row.lease)
          started.push(new Date(row.visible_at.getTime() - LEASE_MS))
        }
        if (ids.length === 0) await sleep(5)
      }
      // The drain ends once everything is archived: the last claims came back empty, so
      // nothing is left to settle here.
    } finally {
      client.release()
    }
  }
  const running = Array.from({ length: lanes }, loop)
  return {
    stop: async () => {
      stopping = true
      await Promise.allSettled(running)
      await pool.end()
    },
  }
}
