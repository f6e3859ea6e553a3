import {
  type PageOptions,
  validateName,
  validatePage,
  type WorkflowRecord,
  type WorkflowRepository,
} from '@pgqrs/core'
import type { Db, Exec } from '../exec.js'
import type { FamilyFragments } from '../family.js'
import { num, toWorkflow } from '../row-mappers.js'
import { ensureQueue } from './queues.js'

const COLUMNS = ['id', 'name', 'queue_id', 'created_at'] as const

/** Get-or-create a workflow and its queue, inside the caller's transaction. @internal */
export async function ensureWorkflow(
  f: FamilyFragments,
  db: Db,
  name: string,
): Promise<WorkflowRecord> {
  const queue = await ensureQueue(f, db, name)
  const row = await f
    .q(db)
    .insertInto('pgqrs_workflows')
    .values({ name, queue_id: num(queue.id), created_at: f.now() })
    .onConflict((oc) => oc.column('name').doUpdateSet((eb) => ({ name: eb.ref('excluded.name') })))
    .returning(COLUMNS)
    .executeTakeFirstOrThrow()
  return toWorkflow(row)
}

/** Workflow definitions; every statement runs on both families. @internal */
export class KyselyWorkflowRepository implements WorkflowRepository {
  readonly #x: Exec
  constructor(exec: Exec) {
    this.#x = exec
  }

  async ensure(name: string): Promise<WorkflowRecord> {
    validateName('workflow', name)
    return this.#x.write('workflows.ensure', (db) => ensureWorkflow(this.#x.f, db, name))
  }

  async get(name: string): Promise<WorkflowRecord | null> {
    validateName('workflow', name)
    const { f } = this.#x
    return this.#x.read('workflows.get', async (db) => {
      const row = await f
        .q(db)
        .selectFrom('pgqrs_workflows')
        .select(COLUMNS)
        .where('name', '=', name)
        .executeTakeFirst()
      return row ? toWorkflow(row) : null
    })
  }

  async list(options?: PageOptions<string>): Promise<WorkflowRecord[]> {
    const { limit, after } = validatePage(options, 'name')
    const { f } = this.#x
    return this.#x.read('workflows.list', async (db) => {
      let query = f.q(db).selectFrom('pgqrs_workflows').select(COLUMNS)
      if (after !== undefined) query = query.where('name', '>', after)
      const rows = await query.orderBy('name').limit(limit).execute()
      return rows.map(toWorkflow)
    })
  }
}
