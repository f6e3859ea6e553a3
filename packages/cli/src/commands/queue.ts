import { ConflictError } from '@pgqrs/core'
import { admin, type QueueLimitsInput } from '@pgqrs/queue'
import { type Command, InvalidArgumentError } from 'commander'
import { METRICS_COLUMNS, QUEUE_COLUMNS } from '../columns.js'
import type { CliContext } from '../context.js'
import { parsePositive } from '../parsers.js'
import { pagedTable, recordTable, rowsTable } from '../table.js'

/** Options of a paged list command. */
interface PageFlags {
  readonly limit: number
  readonly after?: string
}

/** The limit flags of `queue create` and `queue limits`. */
interface LimitFlags {
  /** 0: `none` (remove the limit). */
  readonly maxConcurrency?: number
  readonly concurrencyPerKey?: number
  /** max 0: `none`. */
  readonly rate?: { max: number; perMs: number }
  readonly ratePerKey?: boolean
}

const limitsOf = (o: LimitFlags): QueueLimitsInput => ({
  ...(o.maxConcurrency === undefined ? {} : { maxConcurrency: o.maxConcurrency || null }),
  ...(o.concurrencyPerKey === undefined ? {} : { concurrencyPerKey: o.concurrencyPerKey || null }),
  ...(o.rate === undefined
    ? {}
    : { rateLimit: o.rate.max === 0 ? null : { ...o.rate, perKey: o.ratePerKey === true } }),
})

/** `MAX/MS` (at most MAX claims per MS milliseconds), or `none`. */
function parseRate(value: string): { max: number; perMs: number } {
  if (value === 'none') return { max: 0, perMs: 0 }
  const m = /^(\d+)\/(\d+)$/.exec(value.trim())
  const max = m ? Number(m[1]) : 0
  const perMs = m ? Number(m[2]) : 0
  if (!m || max < 1 || perMs < 1 || !Number.isSafeInteger(max) || !Number.isSafeInteger(perMs))
    throw new InvalidArgumentError(
      'use MAX/MS, e.g. 20/1000 (at most 20 claims per second), or none.',
    )
  return { max, perMs }
}

/** The rate options of `queue create` and `queue limits`. */
function rateOptions(c: Command): Command {
  return c
    .option(
      '--rate <max/ms>',
      'at most MAX claims per MS milliseconds, e.g. 20/1000; "none" removes it',
      parseRate,
    )
    .option('--rate-per-key', 'with --rate: count claims per concurrency key')
}

/**
 * A positive integer, or `none`, given as 0 (commander turns a parser's null into an empty value):
 * {@link limitsOf} makes it null, which removes the limit.
 */
function parseLimit(value: string): number {
  return value === 'none' ? 0 : parsePositive(value)
}

/** `pgqrs queue create|limits|list|get|delete|purge|metrics|handled`. */
export function registerQueue(program: Command, ctx: CliContext): void {
  const queue = program.command('queue').description('create, inspect and delete queues')

  rateOptions(
    queue
      .command('create')
      .description('create a queue (fails if it exists)')
      .argument('<name>', 'queue name: 1-128 characters from [A-Za-z0-9_.:-]')
      .option(
        '--max-concurrency <n>',
        'at most this many of its messages handled at once',
        parsePositive,
      )
      .option(
        '--concurrency-per-key <n>',
        'at most this many messages with one concurrency key handled at once',
        parsePositive,
      ),
  ).action((name: string, opts: LimitFlags, cmd: Command) =>
    ctx.withStore(cmd, `creating queue ${name}`, async (store) => {
      const a = admin(store)
      const limits = limitsOf(opts)
      const q = await a.createQueue(name, Object.keys(limits).length > 0 ? limits : undefined)
      const out = { ...q, ...(await a.queueLimits(name)) }
      return { json: out, table: () => recordTable(out) }
    }),
  )

  rateOptions(
    queue
      .command('limits')
      .description(
        'set the concurrency and rate limits of a queue, enforced by the database across every worker',
      )
      .argument('<name>', 'queue name')
      .option(
        '--max-concurrency <n>',
        'at most this many handled at once; "none" removes it',
        parseLimit,
      )
      .option(
        '--concurrency-per-key <n>',
        'at most this many with one concurrency key at once; "none" removes it',
        parseLimit,
      ),
  ).action((name: string, opts: LimitFlags, cmd: Command) =>
    ctx.withStore(cmd, `setting the limits of queue ${name}`, async (store) => {
      const a = admin(store)
      const limits = await a.setQueueLimits(name, limitsOf(opts))
      const out = { name, ...limits }
      return { json: out, table: () => recordTable(out) }
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
        const a = admin(store)
        const q = { ...(await a.getQueue(name)), ...(await a.queueLimits(name)) }
        return { json: q, table: () => recordTable(q) }
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
