import { readdirSync, readFileSync } from 'node:fs'
import { PostgresStore } from '@pgqrs/store-postgres'
import { worker } from 'pgqrs'

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
const N = Number(process.env.N ?? 100000)
const C = Number(process.env.C ?? 4)
const B = Number(process.env.B ?? 50)
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
let done = 0
const ws = Array.from({ length: C }, () =>
  worker(
    store,
    'q',
    () => {
      done++
    },
    { concurrency: B, batchSize: B },
  ),
)
const cpu0 = process.cpuUsage()
const pg0 = pgCpu()
const t0 = performance.now()
await Promise.all(ws.map((w) => w.start()))
while (done < N) await new Promise((r) => setTimeout(r, 5))
const ms = performance.now() - t0
const cpu = process.cpuUsage(cpu0)
const pg = pgCpu() - pg0
await Promise.all(ws.map((w) => w.stop()))
console.log(
  `${N} msgs in ${ms.toFixed(0)} ms = ${((N / ms) * 1000).toFixed(0)} msg/s; node cpu ${((cpu.user + cpu.system) / N).toFixed(1)} us/msg; pg cpu ${((pg * 1000) / N).toFixed(1)} us/msg`,
)
await store.close()
const { default: PG } = await import('pg')
const c = new PG.Client('postgres://postgres@127.0.0.1:5432/postgres')
await c.connect()
await c.query(`drop schema ${schema} cascade`)
await c.end()
const mu = process.memoryUsage()
console.log(Object.fromEntries(Object.entries(mu).map(([k, v]) => [k, Math.round(v / 1e6)])))
