import { LeaseLostError, type QueueMessage, type Store, TERMINAL_RUN_STATUSES } from '@pgqrs/core'
import { SETTLED } from '@pgqrs/queue'
import { CancelledError, PausedError, Suspend, serialiseError } from './errors.js'
import type { StepRetryPolicy } from './retry.js'
import { Run } from './run.js'

/** The body of a workflow as the engine calls it. */
export type WorkflowBody = (run: Run, input: any) => unknown

async function archive(store: Store, msg: QueueMessage): Promise<void> {
  const [ok] = await store.messages.archive([msg])
  if (!ok) throw new LeaseLostError(msg.id, 'archive')
}

/**
 * Executes one delivery of a workflow message and settles the message itself (returns `SETTLED`):
 * - a run already terminal (a crash between completing and archiving) is archived without running
 *   user code; a CANCELLING run is finalised CANCELLED and archived;
 * - otherwise the run is RUNNING and `body` runs: its result completes the run and archives the
 *   message in ONE transaction; a step retry, pause or sleep releases the message until it is due
 *   (never counted against the queue's attempt budget); any other error fails the run (ERROR).
 * A lost lease is re-thrown: the new holder continues the run.
 */
export async function executeDelivery(
  store: Store,
  msg: QueueMessage,
  body: WorkflowBody,
  policy?: Partial<StepRetryPolicy>,
): Promise<typeof SETTLED> {
  const run = await Run.open(store, msg, policy)
  const status = run.record.status
  if (TERMINAL_RUN_STATUSES.includes(status)) {
    await archive(store, msg)
    return SETTLED
  }
  if (status === 'CANCELLING') {
    await store.transaction(async (tx) => {
      await tx.runs.transition(run.id, { to: 'CANCELLED', lease: msg.lease })
      await tx.messages.archive([msg])
    })
    return SETTLED
  }
  try {
    await run.start()
    const output = await body(run, run.input)
    await store.transaction(async (tx) => {
      await tx.runs.transition(run.id, { to: 'SUCCESS', output, lease: msg.lease })
      const [ok] = await tx.messages.archive([msg])
      if (!ok) throw new LeaseLostError(msg.id, 'archive')
    })
    return SETTLED
  } catch (e) {
    if (LeaseLostError.is(e)) throw e
    if (CancelledError.is(e)) {
      await archive(store, msg)
      return SETTLED
    }
    const wait =
      e instanceof Suspend
        ? e
        : PausedError.is(e)
          ? new Suspend(Date.now() + e.resumeAfterMs, 'PAUSED', {
              message: e.message,
              resumeAfterMs: e.resumeAfterMs,
            })
          : null
    if (wait) {
      if (wait.status !== 'RUNNING') {
        await store.runs.transition(run.id, {
          to: wait.status,
          wakeAt: new Date(wait.until),
          lease: msg.lease,
          ...(wait.info === undefined ? {} : { error: wait.info }),
        })
      }
      const [ok] = await store.messages.release([msg], Math.max(0, wait.until - Date.now()))
      if (!ok) throw new LeaseLostError(msg.id, 'release')
      return SETTLED
    }
    await store.transaction(async (tx) => {
      await tx.runs.transition(run.id, { to: 'ERROR', error: serialiseError(e), lease: msg.lease })
      await tx.messages.archive([msg])
    })
    return SETTLED
  }
}
