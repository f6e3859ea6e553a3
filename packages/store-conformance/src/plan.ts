import type { StoreCapabilities } from '@pgqrs/core'

/** The optional store methods (and the optional `schedules` repository) a harness may declare (`StoreHarness.shortcuts`). */
export const SHORTCUTS = [
  'messages.settleAndDequeue',
  'runs.end',
  'steps.record',
  'messages.cancel',
  'messages.dequeueQueues',
  'messages.handlerMetrics',
  'runs.counts',
  'events.values',
  'schedules',
  'queues.limits',
] as const
/** One of {@link SHORTCUTS}. */
export type Shortcut = (typeof SHORTCUTS)[number]

/** What the plan is made from: the harness's declarations. */
export interface Declared {
  readonly capabilities: StoreCapabilities
  readonly shortcuts?: readonly Shortcut[]
}

/** One capability-gated part of the conformance suite, and whether a store gets it. */
export interface PlannedSuite {
  /** The suite's name as registered. */
  readonly suite: string
  readonly included: boolean
  /** Why it is included or left out, in terms of the declared capabilities. */
  readonly reason: string
}

/**
 * Which gated suites a store runs, and why, from what its harness declares: its capabilities and
 * the optional methods it implements. Everything else runs on every store: core semantics cannot
 * be switched off (`settleAndDequeue` and `runs.end` are tested through the queue and workflow
 * functions that fall back to the required methods, so every store meets their contract). The
 * harness's name plays no part: a custom store declaring what a built-in one declares gets the
 * same tests.
 */
export function conformancePlan(declared: Declared): PlannedSuite[] {
  const { capabilities } = declared
  const record = (declared.shortcuts ?? []).includes('steps.record')
  const scheduled = (declared.shortcuts ?? []).includes('schedules')
  const limits = (declared.shortcuts ?? []).includes('queues.limits')
  const multi = capabilities.concurrency === 'multi-process'
  const shared = capabilities.sharedAcrossProcesses
  return [
    {
      suite: 'multi-process',
      included: multi,
      reason: multi
        ? "capabilities.concurrency is 'multi-process': forked consumers drain one database"
        : "capabilities.concurrency is 'single-process': no concurrent claims from many processes",
    },
    {
      suite: 'queue-worker: worker processes',
      included: multi,
      reason: multi
        ? "capabilities.concurrency is 'multi-process': forked worker processes, one SIGKILLed"
        : "capabilities.concurrency is 'single-process': no worker processes sharing the queue",
    },
    {
      suite: 'queue-worker: wake-ups by NOTIFY from another store',
      included: capabilities.notifications,
      reason: capabilities.notifications
        ? 'capabilities.notifications is true'
        : 'capabilities.notifications is false: workers poll (tested instead: listen() resolves null)',
    },
    {
      suite: 'workflow: event wake-ups by NOTIFY',
      included: capabilities.notifications,
      reason: capabilities.notifications
        ? 'capabilities.notifications is true: a waiting run is woken by NOTIFY, not by a poll'
        : 'capabilities.notifications is false: workers find woken runs at their next poll',
    },
    {
      suite: 'workflow: crash recovery',
      included: shared,
      reason: shared
        ? 'capabilities.sharedAcrossProcesses is true: child processes open the same database and are SIGKILLed'
        : 'capabilities.sharedAcrossProcesses is false: no other process can open this database',
    },
    {
      suite: 'shortcut: steps.record',
      included: record,
      reason: record
        ? "shortcuts declares 'steps.record'"
        : "shortcuts does not declare 'steps.record': the workflow engine acquires and completes steps instead",
    },
    {
      suite: 'schedules',
      included: scheduled,
      reason: scheduled
        ? "shortcuts declares 'schedules': cron schedules are stored and fired"
        : "shortcuts does not declare 'schedules': the store holds no cron schedules",
    },
    {
      suite: 'concurrency limits',
      included: limits,
      reason: limits
        ? "shortcuts declares 'queues.limits': claims enforce concurrency and rate limits"
        : "shortcuts does not declare 'queues.limits': the store has no concurrency or rate limits",
    },
  ]
}

/** True when `suite` of {@link conformancePlan} is included for `declared`. @internal */
export function planned(declared: Declared, suite: string): boolean {
  const found = conformancePlan(declared).find((p) => p.suite === suite)
  if (!found) throw new Error(`store-conformance: no planned suite named "${suite}"`)
  return found.included
}
