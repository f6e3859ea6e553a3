// Issue 15: child workflows. A parent starts children (exactly once per call site, also on
// replay), awaits their results while it holds no worker slot, sees a failed child as a typed
// error, and cancelling it cancels its unfinished children.
// expect: order 1: total 14, declined: price_item ERROR: card declined
// expect: children of order 1: 3, each with parentId = order 1: true
// expect: after cancel: order CANCELLED, its child CANCELLED
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/cw-${process.pid}.db`,
)
await pgqrs.admin(store).install()

const priceItem = pgqrs.defineWorkflow({
  name: 'price_item',
  async run(ctx, input: { sku: string; qty: number }) {
    if (input.sku === 'expired-card') throw new pgqrs.NonRetryableError('card declined')
    if (input.sku === 'backorder') await ctx.waitForEvent('restocked') // waits until cancelled
    return ctx.step('price', () => input.qty * 2)
  },
})

const order = pgqrs.defineWorkflow({
  name: 'order',
  async run(ctx, input: { items: { sku: string; qty: number }[] }) {
    // one child per item; each call site starts its child once, whatever replays happen
    const children = await Promise.all(input.items.map((item) => ctx.startChild(priceItem, item)))
    const declined: string[] = []
    const prices = await Promise.all(
      children.map((child) =>
        // the parent sleeps until each child ends; a failed child is a ChildWorkflowFailedError
        child.result().catch((e: unknown) => {
          if (!pgqrs.ChildWorkflowFailedError.is(e)) throw e // the engine's suspension: let it pass
          declined.push(`${e.workflow} ${e.status}: ${(e.error as { message: string }).message}`)
          return 0
        }),
      ),
    )
    return { total: prices.reduce((a, b) => a + b, 0), declined }
  },
})

// concurrency 1 per queue: a parent that awaits its children holds no slot
const runner = pgqrs.workflowWorker(store, [order, priceItem], {
  concurrency: 1,
  pollIntervalMs: 100,
})
await runner.start()

const first = await order.start(store, {
  items: [
    { sku: 'pen', qty: 3 },
    { sku: 'ink', qty: 4 },
    { sku: 'expired-card', qty: 1 },
  ],
})
const out = await first.result({ timeoutMs: 20_000 })
console.log(`order 1: total ${out.total}, declined: ${out.declined.join(', ')}`)
// the tree: `pgqrs runs tree ID` shows the same
const kids = await pgqrs.admin(store).runs({ parentId: first.id })
console.log(
  `children of order 1: ${kids.length}, each with parentId = order 1: ${kids.every((k) => k.parentId === first.id)}`,
)

// cancelling a parent cancels its unfinished children (and theirs)
const second = await order.start(store, { items: [{ sku: 'backorder', qty: 1 }] })
const sleeping = async (id: number) => (await store.runs.get(id))?.status === 'SLEEPING'
let child: pgqrs.RunRecord | undefined
while (!child || !(await sleeping(child.id)) || !(await sleeping(second.id))) {
  await new Promise((r) => setTimeout(r, 20))
  child = (await pgqrs.admin(store).runs({ parentId: second.id }))[0]
}
await second.cancel()
await second.result({ timeoutMs: 10_000 }).catch(() => {})
while ((await store.runs.get(child.id))?.status !== 'CANCELLED')
  await new Promise((r) => setTimeout(r, 20))
console.log(
  `after cancel: order ${(await second.status()).status}, its child ${(await store.runs.get(child.id))?.status}`,
)
await runner.stop()
await store.close()
