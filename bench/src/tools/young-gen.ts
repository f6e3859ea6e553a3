// Control for the flat-RSS check: a bare Node process, no pgqrs and no database, that allocates
// like a busy queue worker (batches of 50 message-like objects of about 2 KB, each batch alive until
// the next one, a timer tick between batches: ~20 000 objects/s), then prints its peak RSS and
// V8's young-generation size. It shows what V8's default young generation alone costs here:
//   pnpm exec node bench/src/tools/young-gen.ts [seconds, default 20]
//   pnpm exec node --max-semi-space-size=2 bench/src/tools/young-gen.ts [seconds]
// Diagnostic only (not part of `pnpm bench`).
import v8 from 'node:v8'

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
const seconds = Number(process.argv[2] ?? 20)
let kept: object[] = []
let made = 0
let peakRss = 0
const end = Date.now() + seconds * 1000
while (Date.now() < end) {
  kept = Array.from({ length: 50 }, (_, i) => ({
    id: made + i,
    payload: { n: made + i, text: `message ${made + i}`.padEnd(2_000, '.') },
    enqueuedAt: new Date(),
    lease: crypto.randomUUID(),
  }))
  made += kept.length
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
  await new Promise((r) => setTimeout(r, 1))
}
const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
console.log(
  `${made} objects in ${seconds} s (${kept.length} kept at a time): peak RSS ${mb(peakRss)} MB, ` +
    `young generation ${mb(young?.space_size ?? 0)} MB, heap used ${mb(process.memoryUsage().heapUsed)} MB`,
)
