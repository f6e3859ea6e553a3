import { ConflictError } from '@pgqrs/core'
import { admin } from '@pgqrs/queue'
import type { Command } from 'commander'
import { METRICS_COLUMNS, QUEUE_COLUMNS } from '../columns.js'
import type { CliContext } from '../context.js'
import { parsePositive } from '../parsers.js'
import { recordTable, rowsTable } from '../table.js'

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
    .description('list every queue')
    .action((_opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, 'listing queues', async (store) => {
        const queues = await admin(store).listQueues()
        return { json: queues, table: () => rowsTable(queues, QUEUE_COLUMNS) }
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
    .argument('[name]', 'queue name (default: every queue)')
    .action((name: string | undefined, _opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, 'reading metrics', async (store) => {
        if (name === undefined) {
          const all = await admin(store).allQueueMetrics()
          return { json: all, table: () => rowsTable(all, METRICS_COLUMNS) }
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
