import { STEPS } from './order-workflow.ts'
import { paint, say, seconds } from './output.ts'
import type { QueueResult } from './queue-phase.ts'
import type { WorkflowResult } from './workflow-phase.ts'

/** Prints the summary and checks the promises the demo makes; false when one was broken. */
export function printSummary(q: QueueResult, w: WorkflowResult, totalMs: number): boolean {
  const problems: string[] = []
  say(
    `  jobs processed:  ${q.processed}/${q.jobs} in ${seconds(q.ms)} ` +
      `(${q.retries} retried once; archived ${q.archived}, still active ${q.leftActive})`,
  )
  if (q.processed !== q.jobs || q.archived !== q.jobs || q.leftActive !== 0)
    problems.push(`expected ${q.jobs} archived jobs and none active`)

  say(`  workflow run:    ${w.runId} → ${w.status} in ${seconds(w.ms)}`)
  say(`  run output:      ${JSON.stringify(w.output)}`)
  if (w.status !== 'SUCCESS') problems.push(`run ${w.runId} ended ${w.status}, not SUCCESS`)

  say('  step executions (from the step-execution log, written by the step functions):')
  say('    step             completed  by worker')
  STEPS.forEach((step, i) => {
    const done = w.log.filter((e) => e.event === 'done' && e.step === step)
    const started = w.log.filter((e) => e.event === 'start' && e.step === step).length
    const who = done.map((e) => (e.pid === w.killedPid ? 'A (killed later)' : 'B')).join(', ')
    const note =
      started > done.length ? `  (${started - done.length} start cut short by the kill)` : ''
    say(`    ${`${i + 1}. ${step}`.padEnd(17)}${String(done.length).padEnd(11)}${who}${note}`)
    if (done.length !== 1) problems.push(`step ${step} completed ${done.length} times, not once`)
    const expected = i < 2 ? w.killedPid : w.resumedPid
    if (done[0] && done[0].pid !== expected)
      problems.push(`step ${step} ran in pid ${done[0].pid}, expected ${expected}`)
  })
  const replayed = w.log.filter((e) => e.pid === w.resumedPid && STEPS.indexOf(e.step as never) < 2)
  if (replayed.length > 0) problems.push('worker B ran step 1 or 2 again')

  say(`  total time:      ${seconds(totalMs)}`)
  if (problems.length === 0) {
    say(
      paint(
        'green',
        '  ✓ every job processed once; steps 1-2 ran once, before the crash, and were',
      ) + paint('green', ' not re-run after it'),
    )
    return true
  }
  for (const p of problems) say(paint('red', `  ✗ ${p}`))
  return false
}
