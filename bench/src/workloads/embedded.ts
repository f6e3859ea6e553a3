// (e) pgqrs on SQLite and Turso (libSQL) files: the drain of (a) at batch 50, and the workflow
// of (d). Each measurement gets a fresh database file.
import type { Backend } from '../types.ts'
import { measureDrain, prepareDrain } from './drain.ts'
import { measureWorkflow, prepareWorkflow, workflowRow } from './workflow.ts'
import { type Context, type Row, SUBJECTS, type Workload } from './workload.ts'

const BACKENDS: readonly Backend[] = ['sqlite', 'turso']

const isWorkflow = (ctx: Context) => ctx.params.kind === 'workflow'

export const embedded: Workload = {
  id: 'e',
  title: '(e) pgqrs on SQLite and Turso files',
  method:
    'Drain: as (a), batch 50, on a fresh database file per measurement (`SqliteStore`: better-sqlite3, WAL; `TursoStore`: libSQL `file:` URL); consumers share the one store of the process (both stores are single-process: one writer, an in-process mutex). Workflow: as (d), the 4 runners share that store. The throughput column is msg/s for the drain rows and runs/s for the workflow rows (steps/s beside it).',
  columns: ['what', 'consumers'],
  metric: { name: 'msg/s or runs/s', unit: '/s', higherIsBetter: true },
  extras: [
    { key: 'steps', header: 'steps/s' },
    { key: 'cpu', header: 'client CPU µs/msg', digits: 0 },
  ],
  peers: false,
  rows(o) {
    const rows: Row[] = []
    const consumers = o.quick ? [4] : [1, 4]
    for (const c of consumers) {
      rows.push({
        key: `drain-c${c}`,
        cells: { what: `drain ${o.embeddedMessages}, batch 50`, consumers: String(c) },
        params: {
          kind: 'drain',
          consumers: c,
          batch: 50,
          messages: o.embeddedMessages,
          capS: o.drainCapS,
        },
        subjects: BACKENDS.flatMap((b) => [
          SUBJECTS.embedded(b, 'loop'),
          SUBJECTS.embedded(b, 'worker'),
        ]),
        timeoutMs: (o.drainCapS + 120) * 1000,
      })
    }
    const wf = workflowRow(o, 'sqlite', '')
    rows.push({
      ...wf,
      key: 'workflow',
      cells: { what: `workflow, ${o.runs} runs`, consumers: '4 × concurrency 8' },
      params: { ...wf.params, kind: 'workflow' },
      subjects: BACKENDS.map((b) => ({
        system: 'pgqrs',
        mode: 'worker',
        backend: b,
        label: `pgqrs ${b} workflow`,
      })),
    })
    return rows
  },
  prepare: (ctx) => (isWorkflow(ctx) ? prepareWorkflow(ctx) : prepareDrain(ctx)),
  measure: (ctx) => (isWorkflow(ctx) ? measureWorkflow(ctx) : measureDrain(ctx)),
}
