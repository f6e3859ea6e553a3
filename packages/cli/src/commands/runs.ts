import { NotFoundError, RUN_STATUSES, type RunRecord, type RunStatus } from '@pgqrs/core'
import { admin } from '@pgqrs/queue'
import type { Command } from 'commander'
import { EVENT_COLUMNS, RUN_COLUMNS, STEP_COLUMNS } from '../columns.js'
import type { CliContext } from '../context.js'
import { parseChoiceList, parseJson, parsePositive } from '../parsers.js'
import { jsonText, pagedTable, recordTable, resultText, rowsTable } from '../table.js'

/** A run as a field table, its JSON values as JSON text. */
function runTable(run: RunRecord): string {
  return recordTable({
    ...run,
    input: jsonText(run.input),
    output: resultText(run.output),
    error: resultText(run.error),
  })
}

interface ListOptions {
  readonly workflow?: string
  readonly status?: RunStatus[]
  readonly limit: number
}

/** `pgqrs runs list|show ID|cancel ID|send-event ID NAME JSON|events ID`. */
export function registerRuns(program: Command, ctx: CliContext): void {
  const runs = program.command('runs').description('workflow runs and their steps')

  runs
    .command('list')
    .description('workflow runs, newest first')
    .option('--workflow <name>', 'only runs of this workflow')
    .option(
      '--status <status>',
      `only runs in these statuses, comma-separated (${RUN_STATUSES.join(', ')})`,
      parseChoiceList(RUN_STATUSES),
    )
    .option('--limit <n>', 'at most this many', parsePositive, 100)
    .action((opts: ListOptions, cmd: Command) =>
      ctx.withStore(cmd, 'listing runs', async (store) => {
        const list = await admin(store).runs({
          workflow: opts.workflow,
          status: opts.status,
          limit: opts.limit,
        })
        return { json: list, table: () => rowsTable(list, RUN_COLUMNS) }
      }),
    )

  runs
    .command('show')
    .description('one run and its steps')
    .argument('<id>', 'run id', parsePositive)
    .option('--steps <n>', 'at most this many steps (1-1000)', parsePositive, 100)
    .option('--after-step <id>', 'the steps after this step id', parsePositive)
    .action((id: number, opts: { steps: number; afterStep?: number }, cmd: Command) =>
      ctx.withStore(cmd, `reading run ${id}`, async (store) => {
        const run = await store.runs.get(id)
        if (!run) throw new NotFoundError('run', id)
        const steps = await admin(store).steps(id, {
          limit: opts.steps,
          ...(opts.afterStep === undefined ? {} : { after: opts.afterStep }),
        })
        const events = await store.events.list(id)
        return {
          json: { run, steps, events },
          table: () =>
            `${runTable(run)}\nsteps:\n${pagedTable(rowsTable(steps, STEP_COLUMNS), steps.length, opts.steps, steps.at(-1)?.id, '--after-step')}${
              events.length > 0 ? `\nevents:\n${rowsTable(events, EVENT_COLUMNS)}` : ''
            }`,
        }
      }),
    )

  runs
    .command('cancel')
    .description('ask a run to stop: CANCELLING now, CANCELLED at its next step boundary')
    .argument('<id>', 'run id', parsePositive)
    .action((id: number, _opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, `cancelling run ${id}`, async (store) => {
        const run = await admin(store).cancelRun(id)
        return { json: run, table: () => runTable(run) }
      }),
    )

  runs
    .command('send-event')
    .description(
      'send an event to a run: its ctx.waitForEvent(name) gets the payload (a waiting run wakes now)',
    )
    .argument('<id>', 'run id', parsePositive)
    .argument('<name>', 'event name')
    .argument('[json]', 'the payload, a JSON document (default null)', parseJson)
    .option('--idempotency-key <key>', 'a second send with this key to the run stores nothing')
    .action(
      (
        id: number,
        name: string,
        payload: unknown,
        opts: { idempotencyKey?: string },
        cmd: Command,
      ) =>
        ctx.withStore(cmd, `sending event ${name} to run ${id}`, async (store) => {
          const sent = await store.events.send(id, name, payload === undefined ? null : payload, {
            idempotencyKey: opts.idempotencyKey,
          })
          return {
            json: sent,
            table: () =>
              `${rowsTable([sent.event], EVENT_COLUMNS)}\n${
                sent.created ? '' : 'already sent with this idempotency key: nothing stored\n'
              }${sent.woke ? 'the waiting run was woken\n' : ''}`,
          }
        }),
    )

  runs
    .command('events')
    .description('the events sent to a run, oldest first, and which wait took each')
    .argument('<id>', 'run id', parsePositive)
    .action((id: number, _opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, `reading the events of run ${id}`, async (store) => {
        if (!(await store.runs.get(id))) throw new NotFoundError('run', id)
        const events = await store.events.list(id)
        return { json: events, table: () => rowsTable(events, EVENT_COLUMNS) }
      }),
    )
}
