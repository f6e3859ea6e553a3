import {
  LeaseLostError,
  type RunEnding,
  type RunRecord,
  type Store,
  TERMINAL_RUN_STATUSES,
  ValidationError,
} from '@pgqrs/core'

/**
 * Ends a run and archives its message, atomically: `store.runs.end` where the store has it (one
 * statement on Postgres), otherwise a transition and an archive in one `store.transaction` (a lost
 * lease rolls the transition back). Same contract as `RunRepository.end`.
 */
export async function endRun(store: Store, runId: number, ending: RunEnding): Promise<RunRecord> {
  if (store.runs.end) return store.runs.end(runId, ending)
  if (!TERMINAL_RUN_STATUSES.includes(ending?.to))
    throw new ValidationError('to', ending?.to, TERMINAL_RUN_STATUSES.join(', '))
  if (typeof ending.lease !== 'string' || ending.lease.length === 0)
    throw new ValidationError('lease', ending.lease, "the lease token of the run's message")
  return store.transaction(async (tx) => {
    const run = await tx.runs.transition(runId, {
      to: ending.to,
      lease: ending.lease,
      ...(ending.output === undefined ? {} : { output: ending.output }),
      ...(ending.error === undefined ? {} : { error: ending.error }),
    })
    const [archived] = await tx.messages.archive([{ id: run.messageId, lease: ending.lease }])
    if (!archived) throw new LeaseLostError(run.messageId, 'end')
    return run
  })
}
