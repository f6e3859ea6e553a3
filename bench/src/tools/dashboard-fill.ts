// Fills a freshly installed pgqrs schema with the shape of a busy production database, fast: each
// table is written by one INSERT … SELECT generate_series (no per-row round trips), then analysed.
import type pg from 'pg'

/** How much to write. */
export interface FillSize {
  /** Archived (handled) messages, spread over the queues (80 % in `emails`). */
  readonly archived: number
  /** Workflow runs of `nightly-report`, with 3 steps each. */
  readonly runs: number
}

/** Ids the page timings open. */
export interface Filled {
  readonly archivedId: number
  readonly deadId: number
  readonly runId: number
  readonly sleepingRunId: number
}

const DAY_MS = 86_400_000

/**
 * Writes, into `schema` (installed, empty): queues `emails`, `reports`, `thumbnails` and the
 * workflow queue `nightly-report`; `size.archived` archived messages plus 1 % dead letters over the
 * last 7 days; 5 000 pending, 500 delayed and 50 leased messages; `size.runs` runs (90 % SUCCESS,
 * 6 % ERROR, the rest QUEUED/SLEEPING/RUNNING/CANCELLED) whose messages sit in the archive or the
 * queue as the status says, with 3 steps each; and 40 workers (10 of them stopped).
 */
export async function fillDashboardData(
  c: pg.Client,
  schema: string,
  size: FillSize,
): Promise<Filled> {
  const t = (name: string) => `"${schema}".${name}`
  const q = async (text: string) => c.query(text)
  await q(
    `insert into ${t('pgqrs_queues')} (name) values ('emails'), ('reports'), ('thumbnails'), ('nightly-report')`,
  )
  await q(`insert into ${t('pgqrs_workflows')} (name, queue_id)
    select 'nightly-report', id from ${t('pgqrs_queues')} where name = 'nightly-report'`)
  const qid = async (name: string) =>
    Number(
      (await c.query(`select id from ${t('pgqrs_queues')} where name = $1`, [name])).rows[0].id,
    )
  const [emails, reports, thumbs, wf] = [
    await qid('emails'),
    await qid('reports'),
    await qid('thumbnails'),
    await qid('nightly-report'),
  ]
  const a = size.archived
  const dead = Math.max(1, Math.floor(a / 100))
  const runs = size.runs
  // ids: 1..a archived, a+1..a+dead dead, then the runs' messages, then the active messages
  const runBase = a + dead
  const activeBase = runBase + runs
  await q(`insert into ${t('pgqrs_archive')} (id, queue_id, payload, priority, enqueued_at, visible_at,
      attempts, max_attempts, dequeued_at, archived_at, dead_at, last_error)
    select g,
      case when g % 10 < 8 then ${emails} when g % 10 = 8 then ${reports} else ${thumbs} end,
      jsonb_build_object('to', 'user' || g || '@example.com', 'template', 'welcome', 'n', g),
      0, ts, ts, 1, 5, ts + interval '20 ms', ts + interval '60 ms', null, null
    from generate_series(1, ${a}) g,
      lateral (select now() - (${7 * DAY_MS} * (1 - g::float8 / ${a})) * interval '1 ms' as ts) x`)
  await q(`insert into ${t('pgqrs_archive')} (id, queue_id, payload, priority, enqueued_at, visible_at,
      attempts, max_attempts, dequeued_at, archived_at, dead_at, last_error)
    select g, ${emails}, jsonb_build_object('to', 'bounce' || g || '@example.com'), 0, ts, ts, 5, 5,
      ts + interval '1 s', null, ts + interval '2 s', 'smtp 554: mailbox unavailable'
    from generate_series(${a + 1}, ${a + dead}) g,
      lateral (select now() - (g % 1000) * interval '1 min' as ts) x`)
  // runs: statuses by g % 100; terminal runs' messages are archived, the others active
  const status = `case when g % 100 < 90 then 'SUCCESS' when g % 100 < 96 then 'ERROR'
    when g % 100 < 97 then 'CANCELLED' when g % 100 < 98 then 'QUEUED'
    when g % 100 < 99 then 'SLEEPING' else 'RUNNING' end`
  await q(`insert into ${t('pgqrs_archive')} (id, queue_id, payload, priority, enqueued_at, visible_at,
      attempts, max_attempts, dequeued_at, archived_at)
    select ${runBase} + g, ${wf}, jsonb_build_object('input', jsonb_build_object('day', g)), 0,
      now() - g * interval '5 s', now() - g * interval '5 s', 1, 5, now() - g * interval '5 s',
      now() - g * interval '5 s' + interval '400 ms'
    from generate_series(1, ${runs}) g where g % 100 < 97`)
  await q(`insert into ${t('pgqrs_messages')} (id, queue_id, payload, enqueued_at, visible_at, attempts,
      max_attempts)
    select ${runBase} + g, ${wf}, jsonb_build_object('input', jsonb_build_object('day', g)),
      now() - g * interval '5 s', now() + interval '1 h', 1, 5
    from generate_series(1, ${runs}) g where g % 100 >= 97`)
  await q(`insert into ${t('pgqrs_runs')} (workflow_id, message_id, status, input, output, error,
      wake_at, created_at, updated_at, started_at, completed_at)
    select (select id from ${t('pgqrs_workflows')}), ${runBase} + g, ${status},
      jsonb_build_object('day', g), case when g % 100 < 90 then '{"sent": true}'::jsonb end,
      case when g % 100 between 90 and 95 then '{"name": "Error", "message": "template missing"}'::jsonb end,
      case when g % 100 = 98 then now() + interval '1 h' end,
      now() - g * interval '5 s', now() - g * interval '5 s' + interval '400 ms',
      now() - g * interval '5 s', case when g % 100 < 97 then now() - g * interval '5 s' + interval '400 ms' end
    from generate_series(1, ${runs}) g`)
  await q(`insert into ${t('pgqrs_steps')} (run_id, step_key, status, output, retry_count, created_at,
      started_at, completed_at)
    select r.id, k.key, 'SUCCESS', jsonb_build_object('rows', r.id), 0, r.created_at,
      r.created_at + k.n * interval '100 ms', r.created_at + k.n * interval '100 ms' + interval '80 ms'
    from ${t('pgqrs_runs')} r, (values (0, 'fetch'), (1, 'render'), (2, 'send')) k(n, key)`)
  // active messages of emails: 5 000 pending, 500 delayed, 50 leased
  await q(`insert into ${t('pgqrs_messages')} (id, queue_id, payload, enqueued_at, visible_at, attempts,
      max_attempts, lease, dequeued_at)
    select ${activeBase} + g, ${emails}, jsonb_build_object('to', 'new' || g || '@example.com'),
      now() - g * interval '10 ms',
      case when g <= 5000 then now() - g * interval '10 ms' else now() + interval '10 min' end,
      case when g > 5500 then 1 else 0 end, 5,
      case when g > 5500 then gen_random_uuid() end, case when g > 5500 then now() end
    from generate_series(1, 5550) g`)
  await q(
    `select setval(pg_get_serial_sequence('${t('pgqrs_messages')}', 'id'), ${activeBase + 5550})`,
  )
  await q(`insert into ${t('pgqrs_workers')} (name, queue_id, hostname, pid, status, heartbeat_at)
    select 'worker-' || g, case when g % 2 = 0 then ${emails} else ${wf} end, 'host-' || (g % 4), 1000 + g,
      case when g <= 10 then 'stopped' when g % 3 = 0 then 'ready' else 'polling' end,
      now() - (g % 7) * interval '1 s'
    from generate_series(1, 40) g`)
  for (const table of [
    'pgqrs_queues',
    'pgqrs_workers',
    'pgqrs_messages',
    'pgqrs_archive',
    'pgqrs_workflows',
    'pgqrs_runs',
    'pgqrs_steps',
  ]) {
    await q(`analyze ${t(table)}`)
  }
  const runId = Number(
    (
      await c.query(
        `select id from ${t('pgqrs_runs')} where status = 'SUCCESS' order by id desc limit 1`,
      )
    ).rows[0].id,
  )
  const sleepingRunId = Number(
    (
      await c.query(
        `select id from ${t('pgqrs_runs')} where status = 'SLEEPING' order by id limit 1`,
      )
    ).rows[0].id,
  )
  return { archivedId: Math.floor(a / 2), deadId: a + 1, runId, sleepingRunId }
}
