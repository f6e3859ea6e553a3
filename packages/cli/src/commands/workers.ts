import type { Store, WorkerRecord } from '@pgqrs/core'
import { admin } from '@pgqrs/queue'
import type { Command } from 'commander'
import { WORKER_COLUMNS } from '../columns.js'
import type { CliContext } from '../context.js'
import type { Output } from '../output.js'
import { parseNonNegative, parsePositive } from '../parsers.js'
import { pagedTable, recordTable, rowsTable } from '../table.js'

/** A worker name, or its numeric id when no worker has that name. */
async function workerRef(store: Store, name: string): Promise<string | number> {
  if (/^\d+$/.test(name) && !(await store.workers.getByName(name))) return Number(name)
  return name
}

const workerOutput = (w: WorkerRecord): Output => ({ json: w, table: () => recordTable({ ...w }) })

/** `pgqrs workers list|health|suspend NAME|resume NAME|reclaim NAME`. */
export function registerWorkers(program: Command, ctx: CliContext): void {
  const workers = program.command('workers').description('the worker registry')

  workers
    .command('list')
    .description('registered producers, consumers and worker loops')
    .option('--queue <name>', 'only the workers of this queue')
    .option('--live', 'only workers that are not stopped')
    .option('--limit <n>', 'at most this many (1-1000)', parsePositive, 100)
    .option(
      '--after <id>',
      'the workers after this id (the last one of the previous page)',
      parsePositive,
    )
    .action(
      (opts: { queue?: string; live?: boolean; limit: number; after?: number }, cmd: Command) =>
        ctx.withStore(cmd, 'listing workers', async (store) => {
          const list = await admin(store).workers({
            queue: opts.queue,
            limit: opts.limit,
            ...(opts.after === undefined ? {} : { after: opts.after }),
            ...(opts.live ? { live: true } : {}),
          })
          return {
            json: list,
            table: () =>
              pagedTable(rowsTable(list, WORKER_COLUMNS), list.length, opts.limit, list.at(-1)?.id),
          }
        }),
    )

  workers
    .command('purge')
    .description('delete the rows of workers stopped longer than --older-than (ms)')
    .requiredOption('--older-than <ms>', 'stopped at least this long ago, in ms', parseNonNegative)
    .option('--anonymous-only', 'only rows of unnamed workers (named "anon:…")')
    .action((opts: { olderThan: number; anonymousOnly?: boolean }, cmd: Command) =>
      ctx.withStore(cmd, 'purging stopped workers', async (store) => {
        const purged = await admin(store).purgeStoppedWorkers({
          olderThanMs: opts.olderThan,
          anonymousOnly: opts.anonymousOnly === true,
        })
        const result = { purged }
        return { json: result, table: () => recordTable(result) }
      }),
    )

  workers
    .command('health')
    .description('worker counts by status, and how many are stale')
    .option('--queue <name>', 'only the workers of this queue')
    .option(
      '--stale-after <ms>',
      'stale: not stopped and no heartbeat for this long',
      parseNonNegative,
      60_000,
    )
    .action((opts: { queue?: string; staleAfter: number }, cmd: Command) =>
      ctx.withStore(cmd, 'reading worker health', async (store) => {
        const health = await admin(store).workerHealth({
          queue: opts.queue,
          staleAfterMs: opts.staleAfter,
        })
        return { json: health, table: () => recordTable({ ...health }) }
      }),
    )

  workers
    .command('suspend')
    .description('suspend a worker: its loop stops leasing at its next heartbeat')
    .argument('<name>', 'worker name (or id)')
    .action((name: string, _opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, `suspending worker ${name}`, async (store) =>
        workerOutput(await admin(store).suspendWorker(await workerRef(store, name))),
      ),
    )

  workers
    .command('resume')
    .description('resume a suspended worker')
    .argument('<name>', 'worker name (or id)')
    .action((name: string, _opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, `resuming worker ${name}`, async (store) =>
        workerOutput(await admin(store).resumeWorker(await workerRef(store, name))),
      ),
    )

  workers
    .command('reclaim')
    .description(
      'free the name of a worker whose process is gone (marks it stopped); refused while its heartbeat is fresh',
    )
    .argument('<name>', 'worker name (or id)')
    .option(
      '--stale-after <ms>',
      'reclaim only when the heartbeat is at least this old',
      parseNonNegative,
      60_000,
    )
    .option('--force', 'reclaim even with a fresh heartbeat (a live process stops at its next one)')
    .action((name: string, opts: { staleAfter: number; force?: boolean }, cmd: Command) =>
      ctx.withStore(cmd, `reclaiming worker ${name}`, async (store) =>
        workerOutput(
          await admin(store).reclaimWorker(await workerRef(store, name), {
            staleAfterMs: Math.max(1, opts.staleAfter),
            force: opts.force === true,
          }),
        ),
      ),
    )
}
