import { readdirSync, readFileSync } from 'node:fs'
import { PostgresStore } from '@pgqrs/store-postgres'
import 'pgqrs'
function pgCpu(): number {
  let t = 0
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres')) continue
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ')
      t += Number(f[11]) + Number(f[12])
    } catch {}
  }
  return t * 10
}
const N = 100000,
  B = 50,
  MODE = process.env.MODE ?? 'archive'
const schema = `prof_${process.pid}`
const store = new PostgresStore({
  connectionString: 'postgres://postgres@127.0.0.1:5432/postgres',
  schema,
})
await store.migrate()
await store.queues.ensure('q')
const p = await store.producer('q')
for (let i = 0; i < N; i += 2000)
  await p.enqueueMany(Array.from({ length: 2000 }, (_, k) => ({ i: i + k, pad: 'x'.repeat(100) })))
const pg0 = pgCpu()
const t0 = performance.now()
let n = 0
await Promise.all(
  [0, 1, 2, 3].map(async () => {
    let prev: any[] = []
    for (;;) {
      let batch: any[]
      if (MODE === 'combined') {
        const r = await store.messages.archiveAndDequeue(prev, 'q', {
          batchSize: B,
          leaseMs: 30000,
        })
        batch = r.messages
      } else batch = await store.messages.dequeue('q', { batchSize: B, leaseMs: 30000 })
      if (batch.length === 0 && MODE !== 'combined') break
      if (batch.length === 0) {
        if (prev.length) {
          prev = []
          continue
        }
        break
      }
      n += batch.length
      if (MODE === 'archive') await store.messages.archive(batch)
      else if (MODE === 'delete') await store.messages.delete(batch)
      else prev = batch
    }
  }),
)
const ms = performance.now() - t0
const pg = pgCpu() - pg0
console.log(
  `${MODE}: ${((n / ms) * 1000).toFixed(0)} msg/s; pg cpu ${((pg * 1000) / n).toFixed(1)} us/msg`,
)
await store.close()
const { default: PG } = await import('pg')
const c = new PG.Client('postgres://postgres@127.0.0.1:5432/postgres')
await c.connect()
await c.query(`drop schema ${schema} cascade`)
await c.end()
