import { describe, expect, it } from 'vitest'
import { conformancePlan } from '../src/plan.js'

const included = (
  capabilities: Parameters<typeof conformancePlan>[0]['capabilities'],
  shortcuts: Parameters<typeof conformancePlan>[0]['shortcuts'] = [],
) =>
  conformancePlan({ capabilities, shortcuts })
    .filter((p) => p.included)
    .map((p) => p.suite)

describe('conformancePlan: suites chosen by declared capabilities only', () => {
  it('a multi-process, shared store with notifications gets every gated suite', () => {
    expect(
      included(
        {
          concurrency: 'multi-process',
          skipLocked: true,
          notifications: true,
          sharedAcrossProcesses: true,
        },
        ['messages.settleAndDequeue', 'runs.end', 'steps.record'],
      ),
    ).toEqual([
      'multi-process',
      'queue-worker: worker processes',
      'queue-worker: wake-ups by NOTIFY from another store',
      'workflow: event wake-ups by NOTIFY',
      'workflow: crash recovery',
      'shortcut: steps.record',
    ])
  })

  it('a single-process store whose file other processes open gets the crash tests', () => {
    expect(
      included({
        concurrency: 'single-process',
        skipLocked: false,
        notifications: false,
        sharedAcrossProcesses: true,
      }),
    ).toEqual(['workflow: crash recovery'])
  })

  it('a private in-memory store gets none, and each exclusion says which capability decided it', () => {
    const plan = conformancePlan({
      capabilities: {
        concurrency: 'single-process',
        skipLocked: false,
        notifications: false,
        sharedAcrossProcesses: false,
      },
    })
    expect(plan.filter((p) => p.included)).toEqual([])
    for (const p of plan)
      expect(p.reason).toMatch(/^(capabilities\.\w+ is |shortcuts does not declare)/)
  })
})
