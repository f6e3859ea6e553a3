// Reproduction (chaos finding 4): connect('turso:///file') fails with SQLITE_BUSY ("Cannot set up
// libSQL database: SQLITE_BUSY: database is locked") when several PROCESSES open the same fresh
// file at once: the set-up PRAGMAs (journal_mode = WAL, with busy_timeout 0) are not retried.
// Run: cd packages/chaos && pnpm exec node repro/turso-busy.ts
import { fork } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@pgqrs/core'

if (process.argv[2]) {
  // child: open the file, report the outcome
  try {
    const store = await connect(`turso://${process.argv[2]}`, { logger: false })
    await store.migrate()
    await store.close()
    console.log('ok')
  } catch (e) {
    console.log(
      `FAILED ${(e as Error).name} (${(e as { code?: string }).code}): ${(e as Error).message}`,
    )
  }
  process.exit(0)
}

const self = fileURLToPath(import.meta.url)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turso-busy-'))
let failures = 0
let attempts = 0
for (let round = 0; round < 15; round++) {
  const file = path.join(dir, `fresh-${round}.db`)
  const outputs = await Promise.all(
    Array.from({ length: 6 }, () => {
      const c = fork(self, [file], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
      let out = ''
      c.stdout!.on('data', (d) => (out += d))
      return new Promise<string>((r) => c.on('exit', () => r(out.trim())))
    }),
  )
  for (const o of outputs) {
    attempts++
    if (o !== 'ok') {
      failures++
      if (failures <= 3) console.log(`round ${round}: ${o}`)
    }
  }
}
console.log(`${failures} of ${attempts} concurrent opens of a fresh file failed`)
fs.rmSync(dir, { recursive: true, force: true })
