// A measuring child: receives one task from the runner, runs its phase (prepare or measure) and
// answers with the measurement and this process's peak RSS, then exits. One child per phase per
// measurement, so no system shares a heap, a pool or an event loop with another.
import type { ChildReply, ChildTask } from './types.ts'
import { WORKLOADS } from './workloads/index.ts'

function reply(r: ChildReply): void {
  process.send!(r, () => process.exit(r.ok ? 0 : 1))
}

process.once('message', async (task: ChildTask) => {
  try {
    const workload = WORKLOADS[task.workload]
    const ctx = { subject: task.subject, target: task.target, params: task.params }
    let measurement = null
    if (task.phase === 'prepare') await workload.prepare(ctx)
    else measurement = await workload.measure(ctx)
    // maxRSS is in KiB on Linux.
    reply({ ok: true, measurement, maxRssMb: process.resourceUsage().maxRSS / 1024 })
  } catch (e) {
    reply({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) })
  }
})
