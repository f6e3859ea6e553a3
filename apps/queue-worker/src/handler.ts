import type { HandlerContext, QueueMessage } from 'pgqrs'

/** The jobs this worker understands. */
export interface Job {
  readonly task: string
  /** How long the pretend work takes, in ms. Default 50. */
  readonly workMs?: number
  /** Throw instead of finishing (to see retries and dead letters). */
  readonly fail?: boolean
}

/**
 * Does one job. Resolving archives the message; throwing fails it (retried with backoff, or dead
 * after its attempts). `ctx.signal` aborts when the worker stops after its grace period: stop
 * early, and the message is released for another worker.
 */
export async function handleJob(msg: QueueMessage<Job>, ctx: HandlerContext): Promise<void> {
  const { task, workMs = 50, fail = false } = msg.payload
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, workMs)
    ctx.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(new Error(`job ${msg.id} (${task}) interrupted: ${String(ctx.signal.reason)}`))
      },
      { once: true },
    )
  })
  if (fail) throw new Error(`job ${msg.id} (${task}) failed on purpose`)
}
