import { describe, expect, it } from 'vitest'
import * as pgqrs from '../src/index.js'

describe('pgqrs umbrella', () => {
  it('exposes connect, admin, the queue API and the workflow API', () => {
    for (const name of [
      'connect',
      'admin',
      'producer',
      'consumer',
      'enqueue',
      'dequeue',
      'worker',
      'Worker',
      'workflow',
      'run',
      'workflowHandler',
      'workflowStep',
      'defineWorkflow',
      'workflowWorker',
      'pauseError',
      'TransientStepError',
      'NonRetryableError',
      'PgqrsError',
      'ValidationError',
      'QueueNotFoundError',
      'LeaseLostError',
      'InvalidStateTransitionError',
    ]) {
      expect(typeof (pgqrs as Record<string, unknown>)[name], name).toBe('function')
    }
    expect(typeof pgqrs.BackoffStrategy.exponentialJitter).toBe('function')
  })
  it('registers store.producer() and store.consumer() on import', async () => {
    // without @pgqrs/queue loaded, callStoreMethod says what to import; with it, it dispatches
    const calls: unknown[] = []
    pgqrs.registerStoreMethods({ probe: (_s, ...a) => calls.push(a) })
    pgqrs.callStoreMethod('probe', {} as never, [1, 2])
    expect(calls).toEqual([[1, 2]])
    expect(() => pgqrs.callStoreMethod('nope', {} as never, [])).toThrow(/@pgqrs\/queue/)
  })
})
