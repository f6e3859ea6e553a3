import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '@pgqrs/store-sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import * as pgqrs from '../src/index.js'

/** Every value the umbrella exports, by name: the public API, and nothing else. */
const PUBLIC_VALUES = [
  'BackoffStrategy',
  'CancelledError',
  'ChildRun',
  'ChildWorkflowFailedError',
  'ConfigError',
  'ConflictError',
  'ConnectionError',
  'Consumer',
  'DEFAULT_CONFIG',
  'DEFAULT_STEP_RETRY',
  'InvalidStateTransitionError',
  'LeaseLostError',
  'MAX_CATCH_UP',
  'MigrationError',
  'NonDeterminismError',
  'NonRetryableError',
  'NotFoundError',
  'PGQRS_ERROR_CODES',
  'PausedError',
  'PgqrsError',
  'Producer',
  'QueueAlreadyExistsError',
  'QueueNotFoundError',
  'RUN_STATUSES',
  'Run',
  'RunHandle',
  'SETTLED',
  'Scheduler',
  'STEP_STATUSES',
  'SchemaNotInstalledError',
  'SchemaVersionError',
  'StoreError',
  'SuspensionSwallowedError',
  'TERMINAL_RUN_STATUSES',
  'TimeoutError',
  'TransientStepError',
  'ValidationError',
  'WORKER_STATUSES',
  'Worker',
  'WorkerActiveError',
  'WorkerStoppedError',
  'WorkflowFailedError',
  'WorkflowNotFoundError',
  'admin',
  'configFromEnv',
  'connect',
  'consumer',
  'createConsumer',
  'createProducer',
  'defineWorkflow',
  'dequeue',
  'enqueue',
  'parseDsn',
  'pauseError',
  'producer',
  'run',
  'schedule',
  'schedules',
  'sendEvent',
  'worker',
  'workflow',
  'workflowHandler',
  'workflowStep',
  'workflowWorker',
]

const dir = mkdtempSync(join(tmpdir(), 'pgqrs-exports-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('pgqrs umbrella', () => {
  it('exports exactly the curated public API (no internals)', () => {
    expect(Object.keys(pgqrs).sort()).toEqual([...PUBLIC_VALUES].sort())
    for (const internal of [
      'registerStoreMethods',
      'validatePayload',
      'executeDelivery',
      'Suspend',
    ])
      expect(internal in pgqrs, internal).toBe(false)
  })

  it('store.producer() and store.consumer() return a Producer and a Consumer of an existing queue', async () => {
    const store = new SqliteStore({ path: join(dir, 'exports.db'), logger: false })
    try {
      await pgqrs.admin(store).install()
      await store.queue('tasks')
      const producer = await store.producer<{ n: number }>('tasks')
      expect(producer).toBeInstanceOf(pgqrs.Producer)
      const sent = await producer.enqueue({ n: 1 })
      const consumer = await store.consumer<{ n: number }>('tasks')
      expect(consumer).toBeInstanceOf(pgqrs.Consumer)
      const [got] = await consumer.dequeue()
      expect(got?.id).toBe(sent.id)
      expect(got?.payload).toEqual({ n: 1 })
      expect(await consumer.archive(got!)).toBe(true)
      await expect(store.producer('missing')).rejects.toBeInstanceOf(pgqrs.QueueNotFoundError)
      await expect(store.consumer('missing')).rejects.toBeInstanceOf(pgqrs.QueueNotFoundError)
    } finally {
      await store.close()
    }
  })
})
