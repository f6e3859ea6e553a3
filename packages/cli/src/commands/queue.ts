import { ConflictError } from '@pgqrs/core'
import { admin } from '@pgqrs/queue'
import type { Command } from 'commander'
import { METRICS_COLUMNS, QUEUE_COLUMNS } from '../columns.js'
import type { CliContext } from '../context.js'
import { parsePositive } from '../parsers.js'
import { pagedTable, recordTable, rowsTable } from '../table.js'

/** Options of a paged list command. */
interface PageFlags {
  readonly limit: number
  readonly after?: string
}

/** `pgqrs queue create|list|get|delete|purge|metrics|handled`. */
export function registerQueue(program: Command, ctx: CliContext): void {
  const queue = program.command('queue').description('create, inspect and delete queues')

  queue
    .command('create')
    .description('create a queue (fails if it exists)')
    .argument('<name>', 'queue name: 1-128 characters from [A-Za-z0-9_.:-]')
    .action((name: string, _opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, `creating queue ${name}`, async (store) => {
        const q = await admin(store).createQueue(name)
        return { json: q, table: () => recordTable({ ...q }) }
      }),
    )

  queue
    .command('list')
    .description('list queues by name, one page at a time')
    .option('--limit <n>', 'at most this many (1-1000)', parsePositive, 100)
    .option('--after <name>', 'the queues after this name (the last one of the previous page)')
    .action((opts: PageFlags, cmd: Command) =>
      ctx.withStore(cmd, 'listing queues', async (store) => {
        const queues = await admin(store).listQueues({ limit: opts.limit, after: opts.after })
        return {
          json: queues,
          table: () =>
            pagedTable(
              rowsTable(queues, QUEUE_COLUMNS),
              queues.length,
              opts.limit,
              queues.at(-1)?.name,
            ),
        }
      }),
    )

  queue
    .command('get')
    .description('show one queue')
    .argument('<name>', 'queue name')
    .action((name: string, _opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, `reading queue ${name}`, async (store) => {
        const q = await admin(store).getQueue(name)
        return { json: q, table: () => recordTable({ ...q }) }
      }),
    )

  queue
    .command('delete')
    .description('delete a queue and its archive')
    .argument('<name>', 'queue name')
    .option('--force', 'also delete its active (pending, delayed or leased) messages')
    .action((name: string, opts: { force?: boolean }, cmd: Command) =>
      ctx.withStore(cmd, `deleting queue ${name}`, async (store) => {
        try {
          await admin(store).deleteQueue(name, { force: opts.force === true })
        } catch (e) {
          // The library's message names its own option; the CLI's is --force.
          if (ConflictError.is(e) && e.message.includes('{ force: true }')) {
            throw new ConflictError(
              e.entity,
              e.key,
              e.message.replace('delete with { force: true }', 'pass --force'),
              { cause: e },
            )
          }
          throw e
        }
        const result = { queue: name, deleted: true }
        return { json: result, table: () => recordTable(result) }
      }),
    )

  queue
    .command('purge')
    .description('delete every message of a queue (active, archived and dead); keeps the queue')
    .argument('<name>', 'queue name')
    .action((name: string, _opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, `purging queue ${name}`, async (store) => {
        const purged = await admin(store).purgeQueue(name)
        const result = { queue: name, purged }
        return { json: result, table: () => recordTable(result) }
      }),
    )

  queue
    .command('metrics')
    .description('message counts of one queue, or of every queue without a name')
    .argument('[name]', 'queue name (default: every queue, one page at a time)')
    .option('--limit <n>', 'without a name: at most this many queues (1-1000)', parsePositive, 100)
    .option('--after <name>', 'without a name: the queues after this name')
    .action((name: string | undefined, opts: PageFlags, cmd: Command) =>
      ctx.withStore(cmd, 'reading metrics', async (store) => {
        if (name === undefined) {
          const all = await admin(store).allQueueMetrics({ limit: opts.limit, after: opts.after })
          return {
            json: all,
            table: () =>
              pagedTable(rowsTable(all, METRICS_COLUMNS), all.length, opts.limit, all.at(-1)?.name),
          }
        }
        const m = await admin(store).queueMetrics(name)
        return { json: m, table: () => rowsTable([m], METRICS_COLUMNS) }
      }),
    )

  queue
    .command('handled')
    .description(
      'handled, dead and failed counts and p50/p95 handling times of one queue over a window',
    )
    .argument('<name>', 'queue name')
    .option('--window <ms>', 'messages finished in the last <ms> (default one hour)', parsePositive)
    .action((name: string, opts: { window?: number }, cmd: Command) =>
      ctx.withStore(cmd, 'reading handler metrics', async (store) => {
        const m = await admin(store).handlerMetrics(name, { windowMs: opts.window })
        return { json: m, table: () => recordTable({ ...m }) }
      }),
    )
}
