// `pnpm bench --metrics`: what one `queues.allMetrics()` costs on a big PostgreSQL archive
// (default 1 000 000 archived messages, written by dashboard-fill.ts in a fresh schema). It times
// today's statement (archived and dead from pgqrs_archive_counts, migration 0005) and, on the same
// data, the two it replaced: grouping the whole archive (before issue 13) and counting the
// archive's partial indexes (an index-only plan, tried first), right after the fill (analysed, not
// vacuumed: the visibility map is empty) and after VACUUM. Then it archives 10 000 more messages
// in batches of 50 (200 count deltas) and times the first call, which folds them.
// Median and slowest of `--requests` calls after one warm-up.
import { parseArgs } from 'node:util'
import { PostgresStore } from '@pgqrs/store-postgres'
import pg from 'pg'
import { fillDashboardData } from './dashboard-fill.ts'

/** The metrics statement before issue 13 (grouped the archive whole), kept to compare against. */
function oldQuery(schema: string): string {
  const t = (n: string) => `"${schema}".${n}`
  return `with now_ as (select now() as t)
    select q.name, coalesce(s.pending, 0) as pending, coalesce(z.archived, 0) as archived, coalesce(z.dead, 0) as dead
    from ${t('pgqrs_queues')} q
    left join (select queue_id,
        sum(case when visible_at <= (select t from now_) then 1 else 0 end) as pending,
        min(case when visible_at <= (select t from now_) then enqueued_at end) as oldest_pending,
        max(enqueued_at) as newest
      from ${t('pgqrs_messages')} group by queue_id) s on s.queue_id = q.id
    left join (select queue_id,
        sum(case when archived_at is not null then 1 else 0 end) as archived,
        sum(case when dead_at is not null then 1 else 0 end) as dead,
        max(enqueued_at) as newest_archived
      from ${t('pgqrs_archive')} group by queue_id) z on z.queue_id = q.id
    order by q.name`
}

/** The index-only variant (counts on the archive's partial indexes), kept to compare against. */
function indexQuery(schema: string): string {
  const t = (n: string) => `"${schema}".${n}`
  return `select q.name,
      (select count(*) from ${t('pgqrs_archive')} x where x.queue_id = q.id and x.archived_at is not null) as archived,
      (select count(*) from ${t('pgqrs_archive')} x where x.queue_id = q.id and x.dead_at is not null) as dead
    from ${t('pgqrs_queues')} q order by q.name`
}

async function time(
  n: number,
  f: () => Promise<unknown>,
): Promise<{ median: number; max: number }> {
  await f()
  const ms: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await f()
    ms.push(performance.now() - t0)
  }
  ms.sort((a, b) => a - b)
  return { median: ms[Math.floor((ms.length - 1) / 2)]!, max: ms.at(-1)! }
}

/** Fills, times both queries before and after VACUUM, prints a table. */
export async function runMetricsBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--metrics'),
    options: { archived: { type: 'string' }, requests: { type: 'string' } },
    strict: true,
  })
  const archived = Number((values.archived ?? '1000000').replaceAll('_', ''))
  const requests = Number(values.requests ?? 9)
  const url = process.env.PGQRS_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
  const schema = `pgqrs_bench_${process.pid}_metrics`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  const store = new PostgresStore({ connectionString: url, schema, logger: false })
  try {
    await store.migrate()
    const t0 = performance.now()
    await fillDashboardData(admin, schema, { archived, runs: 10_000 })
    console.log(
      `filled ${schema}: ${archived} archived messages (+1 % dead, 10 000 runs) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    )
    const rows: string[] = []
    const measure = async (when: string) => {
      const now = await time(requests, () => store.queues.allMetrics())
      const old = await time(requests, () => admin.query(oldQuery(schema)))
      const idx = await time(requests, () => admin.query(indexQuery(schema)))
      const f = (x: { median: number; max: number }) =>
        `${x.median.toFixed(1)} / ${x.max.toFixed(1)}`
      rows.push(`| ${when} | ${f(old)} | ${f(idx)} | ${f(now)} |`)
    }
    await measure('after the fill (analysed)')
    await admin.query(`vacuum analyze "${schema}".pgqrs_archive`)
    await measure('after VACUUM')
    // 10 000 more messages handled in batches of 50: 200 delta rows for the next call to fold
    await store.messages.enqueue(
      'emails',
      Array.from({ length: 10_000 }, (_, i) => ({ payload: { more: i } })),
    )
    for (let i = 0; i < 200; i++) {
      const got = await store.messages.dequeue('emails', { batchSize: 50, leaseMs: 60_000 })
      await store.messages.archive(got)
    }
    const t1 = performance.now()
    await store.queues.allMetrics()
    const foldMs = performance.now() - t1
    console.log(
      `\nqueues.allMetrics() on ${archived} archived rows, ${requests} calls each (median / max ms)\n`,
    )
    console.log(
      '| archive state | grouped archive (before issue 13) | index-only counts | counts table (now) |',
    )
    console.log('| --- | --- | --- | --- |')
    for (const r of rows) console.log(r)
    console.log(
      `\nthe first call after 10 000 more archived in 200 statements (folds 200 deltas): ${foldMs.toFixed(1)} ms`,
    )
  } finally {
    await store.close()
    await admin.query(`drop schema if exists "${schema}" cascade`).catch(() => {})
    await admin.end()
  }
}
