import type { ScheduleRecord } from '@pgqrs/core'
import { schedules } from '@pgqrs/queue'
import type { Command } from 'commander'
import { SCHEDULE_COLUMNS } from '../columns.js'
import type { CliContext } from '../context.js'
import type { Output } from '../output.js'
import { parsePositive } from '../parsers.js'
import { pagedTable, recordTable, rowsTable } from '../table.js'

const scheduleOutput = (s: ScheduleRecord): Output => ({
  json: s,
  table: () => recordTable({ ...s, payload: JSON.stringify(s.payload) }),
})

/** `pgqrs schedules list|get NAME|pause NAME|resume NAME|remove NAME`. */
export function registerSchedules(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('schedules')
    .description('cron schedules (defined in code with pgqrs.schedule)')

  cmd
    .command('list')
    .description('schedules by name, with their next tick')
    .option('--limit <n>', 'at most this many (1-1000)', parsePositive, 100)
    .option('--after <name>', 'the schedules after this name (the last one of the previous page)')
    .action((opts: { limit: number; after?: string }, c: Command) =>
      ctx.withStore(c, 'listing schedules', async (store) => {
        const list = await schedules(store).list({
          limit: opts.limit,
          ...(opts.after === undefined ? {} : { after: opts.after }),
        })
        return {
          json: list,
          table: () =>
            pagedTable(
              rowsTable(list, SCHEDULE_COLUMNS),
              list.length,
              opts.limit,
              list.at(-1)?.name,
            ),
        }
      }),
    )

  cmd
    .command('get')
    .description('one schedule')
    .argument('<name>', 'schedule name')
    .action((name: string, _opts: unknown, c: Command) =>
      ctx.withStore(c, `reading schedule ${name}`, async (store) =>
        scheduleOutput(await schedules(store).get(name)),
      ),
    )

  cmd
    .command('pause')
    .description('stop the ticks of a schedule until it is resumed')
    .argument('<name>', 'schedule name')
    .action((name: string, _opts: unknown, c: Command) =>
      ctx.withStore(c, `pausing schedule ${name}`, async (store) =>
        scheduleOutput(await schedules(store).pause(name)),
      ),
    )

  cmd
    .command('resume')
    .description(
      'start the ticks again from the next one (ticks missed while paused are not fired)',
    )
    .argument('<name>', 'schedule name')
    .action((name: string, _opts: unknown, c: Command) =>
      ctx.withStore(c, `resuming schedule ${name}`, async (store) =>
        scheduleOutput(await schedules(store).resume(name)),
      ),
    )

  cmd
    .command('remove')
    .description('delete a schedule (the messages it enqueued stay)')
    .argument('<name>', 'schedule name')
    .action((name: string, _opts: unknown, c: Command) =>
      ctx.withStore(c, `removing schedule ${name}`, async (store) => {
        const removed = await schedules(store).remove(name)
        const result = { name, removed }
        return { json: result, table: () => recordTable(result) }
      }),
    )
}
