import { NotFoundError, RUN_STATUSES, type RunRecord, type RunStatus } from '@pgqrs/core'
import { admin } from '@pgqrs/queue'
import type { Command } from 'commander'
import { RUN_COLUMNS, STEP_COLUMNS } from '../columns.js'
import type { CliContext } from '../context.js'
import { parseChoiceList, parsePositive } from '../parsers.js'
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

/** `pgqrs runs list|show ID|cancel ID`. */
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
        return {
          json: { run, steps },
          table: () =>
            `${runTable(run)}\nsteps:\n${pagedTable(rowsTable(steps, STEP_COLUMNS), steps.length, opts.steps, steps.at(-1)?.id, '--after-step')}`,
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
}
