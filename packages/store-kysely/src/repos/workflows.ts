import { validateName, type WorkflowRecord, type WorkflowRepository } from '@pgqrs/core'
import { sql } from 'kysely'
import type { Db, SqlDialect } from '../dialect.js'
import type { Exec } from '../exec.js'
import { num, type Row, toWorkflow } from '../row-mappers.js'

/** Get-or-create a workflow and its queue, inside the caller's transaction. @internal */
export async function ensureWorkflow(db: Db, d: SqlDialect, name: string): Promise<WorkflowRecord> {
  const q =
    await sql<Row>`insert into ${d.t('pgqrs_queues')} (name, created_at) values (${name}, ${d.now()})
    on conflict (name) do update set name = excluded.name returning id`.execute(db)
  const queueId = num(q.rows[0]!.id)
  const r = await sql<Row>`insert into ${d.t('pgqrs_workflows')} (name, queue_id, created_at)
    values (${name}, ${queueId}, ${d.now()})
    on conflict (name) do update set name = excluded.name
    returning id, name, queue_id, created_at`.execute(db)
  return toWorkflow(r.rows[0]!)
}

/** Workflow definitions. @internal */
export class KyselyWorkflowRepository implements WorkflowRepository {
  readonly #x: Exec
  constructor(exec: Exec) {
    this.#x = exec
  }

  async ensure(name: string): Promise<WorkflowRecord> {
    validateName('workflow', name)
    return this.#x.write('workflows.ensure', (db) => ensureWorkflow(db, this.#x.d, name))
  }

  async get(name: string): Promise<WorkflowRecord | null> {
    validateName('workflow', name)
    const { d } = this.#x
    return this.#x.read('workflows.get', async (db) => {
      const r = await sql<Row>`select id, name, queue_id, created_at from ${d.t('pgqrs_workflows')}
        where name = ${name}`.execute(db)
      return r.rows[0] ? toWorkflow(r.rows[0]) : null
    })
  }

  async list(): Promise<WorkflowRecord[]> {
    const { d } = this.#x
    return this.#x.read('workflows.list', async (db) => {
      const r = await sql<Row>`select id, name, queue_id, created_at from ${d.t('pgqrs_workflows')}
        order by name`.execute(db)
      return r.rows.map(toWorkflow)
    })
  }
}
