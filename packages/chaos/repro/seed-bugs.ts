// Seeds one known bug into a SCRATCH COPY of the repository, to check that the chaos suite bites.
// Never run it on the working tree: copy the repository first, e.g.
//   rsync -a --exclude .git --exclude .turbo ./ /tmp/scratch/ && cd /tmp/scratch/packages/chaos
//   pnpm exec node repro/seed-bugs.ts /tmp/scratch archive-no-lease-check
//   (cd ../store-kysely && pnpm exec tsc -p tsconfig.build.json) && PGQRS_CHAOS_TRIALS=8,4 pnpm exec vitest run
// `none` restores the originals (kept as *.orig next to each patched file).
import fs from 'node:fs'
import path from 'node:path'

const [root, bug] = process.argv.slice(2)
if (!root || !bug) {
  console.error('usage: seed-bugs.ts <scratch-root> <bug|none>')
  process.exit(2)
}
if (path.resolve(root) === path.resolve(import.meta.dirname, '..', '..', '..')) {
  console.error('refusing to seed bugs into the working tree: use a scratch copy')
  process.exit(2)
}
const k = (f: string) => path.join(root, 'packages', 'store-kysely', 'src', f)
const files = {
  claim: k('migrations/postgres-0002-claim.ts'),
  pg: k('sql/postgres-messages.ts'),
  sqlite: k('sql/sqlite-messages.ts'),
  steps: k('repos/steps.ts'),
}
for (const f of Object.values(files)) {
  if (fs.existsSync(`${f}.orig`)) fs.copyFileSync(`${f}.orig`, f)
  else fs.copyFileSync(f, `${f}.orig`)
}
function sub(file: keyof typeof files, from: string, to: string): void {
  const text = fs.readFileSync(files[file], 'utf8')
  if (!text.includes(from)) throw new Error(`${files[file]}: cannot find ${JSON.stringify(from)}`)
  fs.writeFileSync(files[file], text.replace(from, to))
}

/** A `${name}` placeholder of the patched source's own template literals. */
const ph = (name: string) => `$${'{'}${name}}`

const BUGS: Record<string, () => void> = {
  none: () => {},
  // archive moves a message whatever lease is presented (Postgres and the sqlite family)
  'archive-no-lease-check': () => {
    sub(
      'pg',
      'where m.id = x.id and m.lease = x.lease\n      returning m.*',
      'where m.id = x.id\n      returning m.*',
    )
    sub(
      'sqlite',
      "on m.id = json_extract(j.value, '$[0]') and m.lease = json_extract(j.value, '$[1]')",
      "on m.id = json_extract(j.value, '$[0]')",
    )
  },
  // the claim without FOR UPDATE SKIP LOCKED (Postgres)
  'dequeue-no-skip-locked': () => {
    sub(
      'claim',
      '              limit p_batch\n              for update skip locked\n',
      '              limit p_batch\n',
    )
  },
  // the claim takes leased messages too (no lease fencing on dequeue)
  'dequeue-steals-leases': () => {
    sub(
      'claim',
      'where queue_id = v_queue and visible_at <= now()',
      'where queue_id = v_queue and (visible_at <= now() or lease is not null)',
    )
    sub(
      'sqlite',
      `where queue_id = ${ph('queueId')} and visible_at <= ${ph('now')}`,
      `where queue_id = ${ph('queueId')} and (visible_at <= ${ph('now')} or lease is not null)`,
    )
  },
  // a redelivery keeps the previous holder's token
  'dequeue-keeps-token': () => {
    sub('claim', 'lease = gen_random_uuid(),', 'lease = coalesce(m.lease, gen_random_uuid()),')
    sub(
      'sqlite',
      'lease = lower(hex(randomblob(16))),',
      'lease = coalesce(lease, lower(hex(randomblob(16)))),',
    )
  },
  // steps.complete skips the fence (the run message's lease is not checked)
  'step-complete-no-fence': () => {
    sub(
      'steps',
      "    return this.#update(\n      'steps.complete',\n      runId,\n      stepKey,\n      lease,",
      "    return this.#update(\n      'steps.complete',\n      runId,\n      stepKey,\n      null,",
    )
  },
}
const seed = BUGS[bug]
if (!seed) {
  console.error(`unknown bug ${bug}; known: ${Object.keys(BUGS).join(', ')}`)
  process.exit(2)
}
seed()
console.log(`seeded ${bug} into ${root}`)
