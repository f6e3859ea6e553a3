import {
  InvalidStateTransitionError,
  LeaseLostError,
  PgqrsError,
  type QueueMessage,
  type RunStatus,
  type Store,
  TERMINAL_RUN_STATUSES,
} from '@pgqrs/core'
import { SETTLED } from '@pgqrs/queue'
import { CancelledError, PausedError, Suspend, serialiseError } from './errors.js'
import type { StepRetryPolicy } from './retry.js'
import { Run } from './run.js'

/** The body of a workflow as the engine calls it. */
export type WorkflowBody = (run: Run, input: any) => unknown

function isStoreFailure(e: unknown): boolean {
  return (
    PgqrsError.is(e) &&
    (e.code === 'CONNECTION' || e.code === 'STORE' || e.code === 'SCHEMA_NOT_INSTALLED')
  )
}

/** How a delivery ends: the run's new status (if any) and whether its message is archived or released. */
interface Ending {
  readonly to?: RunStatus
  readonly output?: unknown
  readonly error?: unknown
  readonly wakeAt?: Date
  /** Release the message for this long; archive it when undefined. */
  readonly releaseMs?: number
}

/**
 * Settles a delivery atomically: the run's status change and the archive (or release) of its
 * message commit together, so a crash, a `cancel()` or a `resumeRun` can never fall between them.
 * A run that ends (SUCCESS, ERROR) takes `runs.end`, one statement on Postgres; a sleep, pause or
 * step retry takes a transaction. A cancel that arrived meanwhile wins: the run ends CANCELLED and
 * the message is archived.
 */
async function settle(
  store: Store,
  runId: number,
  msg: QueueMessage,
  ending: Ending,
): Promise<void> {
  const finish = (cancelled: boolean) =>
    store.transaction(async (tx) => {
      if (cancelled) await tx.runs.transition(runId, { to: 'CANCELLED', lease: msg.lease })
      else if (ending.to) {
        await tx.runs.transition(runId, {
          to: ending.to,
          lease: msg.lease,
          ...(ending.output === undefined ? {} : { output: ending.output }),
          ...(ending.error === undefined ? {} : { error: ending.error }),
          ...(ending.wakeAt === undefined ? {} : { wakeAt: ending.wakeAt }),
        })
      } else if ((await tx.runs.get(runId))?.status === 'CANCELLING') {
        // no status change of our own (a step retry): a cancel that arrived meanwhile still wins
        throw new InvalidStateTransitionError('run', 'CANCELLING', 'RUNNING', ['RUNNING'])
      }
      const [ok] =
        cancelled || ending.releaseMs === undefined
          ? await tx.messages.archive([msg])
          : await tx.messages.release([msg], ending.releaseMs)
      if (!ok) throw new LeaseLostError(msg.id, 'settle')
    })
  const { to } = ending
  try {
    if (
      (to === 'SUCCESS' || to === 'ERROR') &&
      ending.releaseMs === undefined &&
      msg.lease !== null
    ) {
      await store.runs.end(runId, {
        to,
        lease: msg.lease,
        ...(ending.output === undefined ? {} : { output: ending.output }),
        ...(ending.error === undefined ? {} : { error: ending.error }),
      })
    } else await finish(false)
  } catch (e) {
    // A cancel landed after the last step boundary: it wins, the run ends CANCELLED now.
    if (InvalidStateTransitionError.is(e) && e.from === 'CANCELLING') return finish(true)
    throw e
  }
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
    const [ok] = await store.messages.archive([msg])
    if (!ok) throw new LeaseLostError(msg.id, 'archive')
    return SETTLED
  }
  if (status === 'CANCELLING') {
    await settle(store, run.id, msg, {})
    return SETTLED
  }
  let ending: Ending
  try {
    await run.start()
    const output = await body(run, run.input)
    ending = { to: 'SUCCESS', output }
  } catch (e) {
    if (LeaseLostError.is(e)) throw e
    // The engine's own bookkeeping failed (the database went away): this delivery failed, not the
    // run. Re-throw so the message comes back (worker backoff) and the run resumes from its last
    // completed step; only user errors end a run ERROR.
    if (isStoreFailure(e)) throw e
    if (CancelledError.is(e))
      ending = {} // already CANCELLED: archive
    else if (e instanceof Suspend || PausedError.is(e)) {
      const wait =
        e instanceof Suspend
          ? e
          : new Suspend(Date.now() + e.resumeAfterMs, 'PAUSED', {
              message: e.message,
              resumeAfterMs: e.resumeAfterMs,
            })
      ending = {
        ...(wait.status === 'RUNNING' ? {} : { to: wait.status, wakeAt: new Date(wait.until) }),
        ...(wait.info === undefined ? {} : { error: wait.info }),
        releaseMs: Math.max(0, wait.until - Date.now()),
      }
    } else ending = { to: 'ERROR', error: serialiseError(e) }
  }
  await settle(store, run.id, msg, ending)
  return SETTLED
}
