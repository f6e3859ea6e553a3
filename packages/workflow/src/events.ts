import type { SendEventOptions, SentEvent, Store } from '@pgqrs/core'

/**
 * Sends event `name` with `payload` to run `runId`: a `ctx.waitForEvent(name)` of that run gets
 * it (a run waiting for it now is woken at once; one that waits later finds it). Each event is
 * taken by exactly one wait. With `idempotencyKey`, a second send with the same key to the same
 * run stores nothing and returns the first event (`created: false`). `NotFoundError` for an
 * unknown run; `ValidationError` for a bad name, payload or key.
 *
 * @example
 * ```ts
 * await sendEvent(store, runId, 'approve', { by: 'ada' }, { idempotencyKey: 'approval-42' })
 * ```
 */
export function sendEvent(
  store: Store,
  runId: number,
  name: string,
  payload: unknown,
  options: SendEventOptions = {},
): Promise<SentEvent> {
  return store.events.send(runId, name, payload, options)
}
