import { PgqrsError, ValidationError } from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import { childOutcome, settleChild, toChildRef } from '../src/child.js'
import { ChildWorkflowFailedError, serialiseError } from '../src/index.js'

const run = (status: string, output: unknown = null, error: unknown = null) =>
  ({ workflow: 'charge', status, output, error }) as Parameters<typeof childOutcome>[0]

describe('child outcomes', () => {
  it('a running child has no outcome; an ended one is stored as { workflow, status, output | error }', () => {
    for (const s of ['QUEUED', 'RUNNING', 'SLEEPING', 'PAUSED', 'CANCELLING'])
      expect(childOutcome(run(s))).toBeNull()
    expect(childOutcome(run('SUCCESS', { ok: 1 }))).toEqual({
      workflow: 'charge',
      status: 'SUCCESS',
      output: { ok: 1 },
    })
    expect(childOutcome(run('ERROR', null, { name: 'Error', message: 'declined' }))).toEqual({
      workflow: 'charge',
      status: 'ERROR',
      error: { name: 'Error', message: 'declined' },
    })
    // a cancelled child carries no error, even when its run row kept a pause note
    expect(childOutcome(run('CANCELLED', null, { message: 'paused' }))).toEqual({
      workflow: 'charge',
      status: 'CANCELLED',
      error: null,
    })
  })

  it('settleChild returns the output or throws ChildWorkflowFailedError with the child error', () => {
    expect(settleChild(7, { workflow: 'charge', status: 'SUCCESS', output: 42 })).toBe(42)
    let thrown: unknown
    try {
      settleChild(7, {
        workflow: 'charge',
        status: 'ERROR',
        error: { name: 'NonRetryableError', message: 'card declined' },
      })
    } catch (e) {
      thrown = e
    }
    expect(ChildWorkflowFailedError.is(thrown)).toBe(true)
    expect(PgqrsError.is(thrown)).toBe(true)
    const e = thrown as ChildWorkflowFailedError
    expect([e.code, e.childRunId, e.workflow, e.status]).toEqual([
      'CHILD_FAILED',
      7,
      'charge',
      'ERROR',
    ])
    expect(e.message).toBe(
      'Child run 7 (workflow "charge") ended ERROR: NonRetryableError: card declined',
    )
    const cancelled = new ChildWorkflowFailedError(8, 'charge', 'CANCELLED', null)
    expect(cancelled.message).toBe(
      'Child run 8 (workflow "charge") ended CANCELLED: it was cancelled',
    )
    // stored as the parent's error when uncaught: the code survives
    expect(serialiseError(cancelled)).toMatchObject({
      name: 'ChildWorkflowFailedError',
      code: 'CHILD_FAILED',
    })
  })

  it('a stored child reference that is not one is a ValidationError', () => {
    expect(toChildRef({ runId: 1, messageId: 2, workflow: 'w' })).toEqual({
      runId: 1,
      messageId: 2,
      workflow: 'w',
    })
    for (const bad of [null, 3, { runId: 1 }, { runId: 1.5, messageId: 2, workflow: 'w' }])
      expect(() => toChildRef(bad)).toThrow(ValidationError)
  })
})
