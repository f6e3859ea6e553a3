import {
  InvalidStateTransitionError,
  LeaseLostError,
  PgqrsError,
  type QueueMessage,
  type RunStatus,
  type Store,
  TERMINAL_RUN_STATUSES,
  ValidationError,
  validatePayload,
} from '@pgqrs/core'
import { SETTLED } from '@pgqrs/queue'
import { DeliveryContext, type WorkflowContext } from './context.js'
import {
  CancelledError,
  PausedError,
  Suspend,
  SuspensionSwallowedError,
  serialiseError,
} from './errors.js'
import type { StepRetryPolicy } from './retry.js'
import { endRun } from './shortcuts.js'
import { Run } from './run.js'
import { DeliveryTelemetry } from './telemetry.js'

/** The body of a workflow as the engine calls it: the narrow context and the run's input. */
export type WorkflowBody = (ctx: WorkflowContext, input: any) => unknown

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
  /** The run waits for this event: released at once instead when one is pending already. */
  readonly waitEvent?: string
  /** The run awaits these child runs: released at once instead when one of them has ended. */
  readonly waitChildren?: readonly number[]
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
): Promise<RunStatus | null> {
  const finish = (cancelled: boolean): Promise<RunStatus | null> =>
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
      let releaseMs = ending.releaseMs
      // A wait falling asleep: the transition above locked the run's message (Postgres), so an
      // event sent meanwhile either committed already (seen here: wake at once) or waits for this
      // commit and then finds the message released (the send wakes it).
      if (
        !cancelled &&
        ending.waitEvent !== undefined &&
        releaseMs !== undefined &&
        (await tx.events.pending(runId, ending.waitEvent))
      )
        releaseMs = 0
      // Awaited children: the transition above holds the run's message, so a child ending now
      // either committed already (its status is seen here) or finds the message released.
      if (!cancelled && releaseMs !== undefined && releaseMs > 0 && ending.waitChildren)
        for (const id of ending.waitChildren) {
          const child = await tx.runs.get(id)
          if (child && TERMINAL_RUN_STATUSES.includes(child.status)) {
            releaseMs = 0
            break
          }
        }
      const [ok] =
        cancelled || releaseMs === undefined
          ? await tx.messages.archive([msg])
          : await tx.messages.release([msg], releaseMs)
      if (!ok) throw new LeaseLostError(msg.id, 'settle')
      return cancelled ? 'CANCELLED' : (ending.to ?? (releaseMs === undefined ? null : 'RUNNING'))
    })
  const { to } = ending
  try {
    if (
      (to === 'SUCCESS' || to === 'ERROR') &&
      ending.releaseMs === undefined &&
      msg.lease !== null
    ) {
      await endRun(store, runId, {
        to,
        lease: msg.lease,
        ...(ending.output === undefined ? {} : { output: ending.output }),
        ...(ending.error === undefined ? {} : { error: ending.error }),
      })
      return to
    }
    return await finish(false)
  } catch (e) {
    // A cancel landed after the last step boundary: it wins, the run ends CANCELLED now.
    if (InvalidStateTransitionError.is(e) && e.from === 'CANCELLING') return finish(true)
    throw e
  }
}

/** What the body did: returned `output`, or threw `error`. */
type Outcome =
  | { readonly ok: true; readonly output: unknown }
  | { readonly ok: false; readonly error: unknown }

/**
 * The ending of a delivery from what the body did. An engine signal the body caught and did not
 * rethrow still decides: a lost lease is re-thrown (the new holder continues), a cancel archives,
 * and a swallowed suspension ends the run in ERROR with {@link SuspensionSwallowedError} naming the
 * step. An output that cannot be stored ends the run in ERROR saying why, at once (not a failed
 * delivery to be retried: the body would only return it again).
 */
function ending(store: Store, ctx: DeliveryContext, outcome: Outcome): Ending {
  const interrupt = ctx.interrupt
  if (interrupt && (outcome.ok || outcome.error !== interrupt.error)) {
    const e = interrupt.error
    if (LeaseLostError.is(e)) throw e
    if (CancelledError.is(e)) return {} // the run is CANCELLED already: archive
    const cause = outcome.ok ? undefined : outcome.error
    const swallowed = new SuspensionSwallowedError(interrupt.step, e.kind, { cause })
    return { to: 'ERROR', error: serialiseError(swallowed) }
  }
  if (outcome.ok) {
    try {
      if (outcome.output !== undefined)
        validatePayload(outcome.output, store.config.validation, undefined, {
          undefinedProperties: 'drop',
        })
    } catch (e) {
      if (!ValidationError.is(e)) throw e
      const unstorable = new ValidationError(
        'output',
        e.value,
        e.allowed,
        `the workflow's output could not be stored: ${e.message.replace(/payload/g, 'output')}`,
      )
      return { to: 'ERROR', error: serialiseError(unstorable) }
    }
    return { to: 'SUCCESS', output: outcome.output }
  }
  const e = outcome.error
  if (LeaseLostError.is(e)) throw e
  // The engine's own bookkeeping failed (the database went away): this delivery failed, not the
  // run. Re-throw so the message comes back (worker backoff) and the run resumes from its last
  // completed step; only user errors end a run ERROR.
  if (isStoreFailure(e)) throw e
  if (CancelledError.is(e)) return {} // already CANCELLED: archive
  if (e instanceof Suspend || PausedError.is(e)) {
    const deadline = ctx.deadline
    const wait =
      e instanceof Suspend
        ? e
        : new Suspend(Date.now() + e.resumeAfterMs, 'PAUSED', 'body', 'pause', {
            message: e.message,
            resumeAfterMs: e.resumeAfterMs,
          })
    return {
      ...(wait.status === 'RUNNING' ? {} : { to: wait.status, wakeAt: new Date(wait.until) }),
      // a run with a deadline comes back at its deadline at the latest, to end ERROR then
      ...(wait.info === undefined ? {} : { error: wait.info }),
      ...(e instanceof Suspend && e.event !== undefined ? { waitEvent: e.event } : {}),
      ...(ctx.awaitingChildren.length > 0 ? { waitChildren: ctx.awaitingChildren } : {}),
      releaseMs: Math.max(0, Math.min(wait.until, deadline ?? wait.until) - Date.now()),
    }
  }
  return { to: 'ERROR', error: serialiseError(e) }
}

/** Options of {@link executeDelivery}. */
export interface DeliveryOptions {
  /**
   * Emit the run's OpenTelemetry span, step spans and metrics through `@opentelemetry/api`
   * (no-ops until the app registers an SDK). Default true; false skips even the no-op calls.
   */
  readonly telemetry?: boolean
}

/**
 * Executes one delivery of a workflow message and settles the message itself (returns `SETTLED`):
 * - a run already terminal (a crash between completing and archiving) is archived without running
 *   user code; a CANCELLING run is finalised CANCELLED and archived;
 * - otherwise the run is RUNNING and `body(ctx, input)` runs with a {@link WorkflowContext}: its
 *   result completes the run and archives the message atomically; a step retry, pause or sleep
 *   releases the message until it is due (never counted against the queue's attempt budget); any
 *   other error fails the run (ERROR).
 * A lost lease is re-thrown: the new holder continues the run. `handler` is the queue worker's
 * handler context: its signal becomes `ctx.signal`. With telemetry (the default) the delivery is a
 * `workflow <name>` span with a span per step (see docs/observability.md).
 */
export async function executeDelivery(
  store: Store,
  msg: QueueMessage,
  body: WorkflowBody,
  policy?: Partial<StepRetryPolicy>,
  handler?: { readonly signal: AbortSignal },
  options: DeliveryOptions = {},
): Promise<typeof SETTLED> {
  if (options.telemetry === false) {
    await deliver(store, msg, body, policy, handler, null)
    return SETTLED
  }
  const t = new DeliveryTelemetry(msg)
  try {
    t.ended(await t.within(() => deliver(store, msg, body, policy, handler, t)))
  } catch (e) {
    t.ended(null, e)
    throw e
  }
  return SETTLED
}

/** {@link executeDelivery}; returns the run's status after the delivery (null: unchanged). */
async function deliver(
  store: Store,
  msg: QueueMessage,
  body: WorkflowBody,
  policy: Partial<StepRetryPolicy> | undefined,
  handler: { readonly signal: AbortSignal } | undefined,
  telemetry: DeliveryTelemetry | null,
): Promise<RunStatus | null> {
  const run = await Run.open(store, msg, policy)
  telemetry?.opened(run.record)
  const status = run.record.status
  if (TERMINAL_RUN_STATUSES.includes(status)) {
    const [ok] = await store.messages.archive([msg])
    if (!ok) throw new LeaseLostError(msg.id, 'archive')
    return null
  }
  if (status === 'CANCELLING') return settle(store, run.id, msg, {})
  if (run.overdue) {
    // past its deadline (it waited, slept or was queued until then): it ends ERROR, no user code
    await run.start()
    return settle(store, run.id, msg, { to: 'ERROR', error: serialiseError(run.deadlineError()) })
  }
  const ctx = new DeliveryContext(run, handler, telemetry)
  let outcome: Outcome
  try {
    await run.start()
    outcome = { ok: true, output: await body(ctx, run.input) }
  } catch (error) {
    outcome = { ok: false, error }
  }
  // parallel steps still running when the body ended (a sibling threw): let them record first
  await ctx.drain()
  const after = await settle(store, run.id, msg, ending(store, ctx, outcome))
  // a cancel this delivery finalised at a step boundary: the run is CANCELLED already
  return after ?? (run.record.status === 'CANCELLED' ? 'CANCELLED' : null)
}
