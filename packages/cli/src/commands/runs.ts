import {
  NotFoundError,
  RUN_STATUSES,
  type RunRecord,
  type RunStatus,
  type Store,
} from '@pgqrs/core'
import { admin } from '@pgqrs/queue'
import type { Command } from 'commander'
import { EVENT_COLUMNS, RUN_COLUMNS, STEP_COLUMNS } from '../columns.js'
import type { CliContext } from '../context.js'
import { parseChoiceList, parseJson, parsePositive } from '../parsers.js'
import { cell, jsonText, pagedTable, recordTable, resultText, rowsTable } from '../table.js'

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
  readonly parent?: number
  readonly limit: number
}

/** A run and its children, as `runs tree` prints them. */
interface RunNode {
  readonly run: RunRecord
  readonly children: RunNode[]
  /** True when the run has more children than were read (`--limit`), or deeper ones (`--depth`). */
  readonly truncated: boolean
}

/** The tree of runs under `root`: at most `limit` children per run, `depth` levels deep. */
async function runTree(
  store: Store,
  root: RunRecord,
  limit: number,
  depth: number,
): Promise<RunNode> {
  if (depth === 0) {
    const any = await admin(store).runs({ parentId: root.id, limit: 1 })
    return { run: root, children: [], truncated: any.length > 0 }
  }
  // newest first from the store; a tree reads oldest first
  const kids = (await admin(store).runs({ parentId: root.id, limit: limit + 1 })).reverse()
  const truncated = kids.length > limit
  const children: RunNode[] = []
  for (const kid of kids.slice(truncated ? 1 : 0))
    children.push(await runTree(store, kid, limit, depth - 1))
  return { run: root, children, truncated }
}

/** The tree as indented lines, `id workflow STATUS (from step …)`; a `…` line where it was cut. */
function treeText(node: RunNode, indent = ''): string {
  const r = node.run
  // step keys are user text: one line each, escaped like every table cell
  const step = r.parentStep ? `  (from step ${cell(r.parentStep)})` : ''
  let out = `${indent}${r.id} ${cell(r.workflow)} ${r.status}${step}\n`
  for (const c of node.children) out += treeText(c, `${indent}  `)
  if (node.truncated) out += `${indent}  … (more children: raise --limit or --depth)\n`
  return out
}

/** `pgqrs runs list|show ID|tree ID|cancel ID|send-event ID NAME JSON|events ID`. */
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
    .option(
      '--parent <id>',
      'only the children of this run (started by its ctx.startChild)',
      parsePositive,
    )
    .option('--limit <n>', 'at most this many', parsePositive, 100)
    .action((opts: ListOptions, cmd: Command) =>
      ctx.withStore(cmd, 'listing runs', async (store) => {
        const list = await admin(store).runs({
          workflow: opts.workflow,
          status: opts.status,
          ...(opts.parent === undefined ? {} : { parentId: opts.parent }),
          limit: opts.limit,
        })
        return { json: list, table: () => rowsTable(list, RUN_COLUMNS) }
      }),
    )

  runs
    .command('show')
    .description('one run, its steps, events and child runs')
    .argument('<id>', 'run id', parsePositive)
    .option('--steps <n>', 'at most this many steps (1-1000)', parsePositive, 100)
    .option('--after-step <id>', 'the steps after this step id', parsePositive)
    .option('--children <n>', 'at most this many child runs (newest first)', parsePositive, 100)
    .action(
      (id: number, opts: { steps: number; afterStep?: number; children: number }, cmd: Command) =>
        ctx.withStore(cmd, `reading run ${id}`, async (store) => {
          const run = await store.runs.get(id)
          if (!run) throw new NotFoundError('run', id)
          const steps = await admin(store).steps(id, {
            limit: opts.steps,
            ...(opts.afterStep === undefined ? {} : { after: opts.afterStep }),
          })
          const events = await store.events.list(id)
          const children = await admin(store).runs({ parentId: id, limit: opts.children })
          return {
            json: { run, steps, events, children },
            table: () =>
              `${runTable(run)}\nsteps:\n${pagedTable(rowsTable(steps, STEP_COLUMNS), steps.length, opts.steps, steps.at(-1)?.id, '--after-step')}${
                events.length > 0 ? `\nevents:\n${rowsTable(events, EVENT_COLUMNS)}` : ''
              }${children.length > 0 ? `\nchildren:\n${rowsTable(children, RUN_COLUMNS)}` : ''}`,
          }
        }),
    )

  runs
    .command('tree')
    .description('a run and the child runs under it (ctx.startChild), indented, oldest first')
    .argument('<id>', 'run id', parsePositive)
    .option('--depth <n>', 'at most this many levels below the run', parsePositive, 10)
    .option('--limit <n>', 'at most this many children per run', parsePositive, 100)
    .action((id: number, opts: { depth: number; limit: number }, cmd: Command) =>
      ctx.withStore(cmd, `reading the tree of run ${id}`, async (store) => {
        const run = await store.runs.get(id)
        if (!run) throw new NotFoundError('run', id)
        const tree = await runTree(store, run, opts.limit, opts.depth)
        return { json: tree, table: () => treeText(tree).trimEnd() }
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
