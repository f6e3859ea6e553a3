import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { boundCli, expectError, expectUsage, tempDir } from './helpers.js'
import { schedule } from '@pgqrs/queue'
import { seedDead, seedRuns, withLibrary } from './seed.js'

// One SQLite file for this file (never :memory:); each test uses its own queue names.
const tmp = tempDir()
const dsn = `sqlite://${join(tmp.dir, 'cli.db')}`
const { cli, cliJson, cliRaw } = boundCli(['--dsn', dsn])

beforeAll(async () => {
  await cli('install')
})
afterAll(() => tmp.remove())

describe('dlq (SQLite)', () => {
  let deadId = 0
  beforeAll(async () => {
    await cli('queue', 'create', 'q-dlq')
    deadId = await withLibrary(dsn, (store) => seedDead(store, 'q-dlq', { to: 'x@y.z' }))
  })

  it('dlq list shows the dead message and its error', async () => {
    expect(await cliJson('dlq', 'list', 'q-dlq')).toMatchObject([
      { id: deadId, payload: { to: 'x@y.z' }, lastError: 'boom: mail server down', attempts: 1 },
    ])
    expect(await cli('dlq', 'list', 'q-dlq')).toMatch(
      new RegExp(`│ ${deadId}\\s+│ dead\\s+│[\\s\\S]*boom: mail server down`),
    )
    expectError(await cliRaw('dlq', 'list', 'q-none'), /does not exist/)
  })

  it('dlq replay brings it back under the same id, once', async () => {
    const replayed = await cliJson('dlq', 'replay', String(deadId))
    expect(replayed).toMatchObject({ id: deadId, attempts: 0, deadAt: null, lease: null })
    expect(await cliJson('dlq', 'list', 'q-dlq')).toEqual([])
    expect(await cliJson('queue', 'metrics', 'q-dlq')).toMatchObject({ pending: 1, dead: 0 })
    expectError(await cliRaw('dlq', 'replay', String(deadId)), /still active/)
    expectError(await cliRaw('dlq', 'replay', '987654'), /message 987654 not found/)
  })
})

describe('messages get, cancel and retry-now (SQLite)', () => {
  it('cancels a delayed message, runs a backing-off one now, shows a settled one with its result', async () => {
    await cli('queue', 'create', 'q-control')
    const delayed = await cliJson<{ id: number }>(
      'send',
      'q-control',
      '{"n":1}',
      '--delay',
      '600000',
    )
    const later = await cliJson<{ id: number; timeoutMs: number }>(
      'send',
      'q-control',
      '{"n":2}',
      '--delay',
      '600000',
      '--timeout',
      '1500',
    )
    expect(later.timeoutMs).toBe(1500)
    expect(await cliJson('messages', 'cancel', String(delayed.id))).toMatchObject({
      id: delayed.id,
      payload: { n: 1 },
    })
    expectError(await cliRaw('messages', 'get', String(delayed.id)), /not found/)
    expectError(await cliRaw('messages', 'cancel', String(delayed.id)), /not found/)
    const now = await cliJson<{ visibleAt: string }>('messages', 'retry-now', String(later.id))
    expect(new Date(now.visibleAt).getTime()).toBeLessThan(Date.now() + 5_000)
    const settled = await withLibrary(dsn, async (store) => {
      const [m] = await store.messages.dequeue('q-control', { batchSize: 1, leaseMs: 30_000 })
      await store.messages.archive([m!], {
        outcomes: [{ result: { sent: true }, startedAt: new Date(Date.now() - 20) }],
      })
      return m!.id
    })
    expect(settled).toBe(later.id)
    expect(await cliJson('messages', 'get', String(settled))).toMatchObject({
      id: settled,
      result: { sent: true },
      attempts: 1,
    })
    expect(await cli('messages', 'get', String(settled))).toMatch(/result[\s\S]*"sent":true/)
    expectError(await cliRaw('messages', 'cancel', String(settled)), /archived/)
    expectError(await cliRaw('messages', 'retry-now', String(settled)), /replay/)
    expect(await cliJson('queue', 'handled', 'q-control', '--window', '60000')).toMatchObject({
      queue: 'q-control',
      handled: 1,
      dead: 0,
      failed: 0,
    })
    // the listing form still works beside the subcommands
    expect(await cliJson('messages', 'q-control', '--state', 'archived')).toHaveLength(1)
  })
})

describe('workers (SQLite)', () => {
  let workerId = 0
  beforeAll(async () => {
    await cli('queue', 'create', 'q-work')
    workerId = await withLibrary(dsn, async (store) => {
      const w = await store.workers.register({
        name: 'mailer-1',
        queue: 'q-work',
        hostname: 'h1',
        pid: 42,
      })
      await store.workers.register({ name: 'other-1', hostname: 'h2', pid: 43 })
      return w.id
    })
  })

  it('workers list, all and by queue, in both formats', async () => {
    const all = await cliJson<{ name: string }[]>('workers', 'list')
    expect(all.map((w) => w.name)).toEqual(expect.arrayContaining(['mailer-1', 'other-1']))
    expect(await cliJson('workers', 'list', '--queue', 'q-work')).toMatchObject([
      { id: workerId, name: 'mailer-1', status: 'ready', hostname: 'h1', pid: 42 },
    ])
    expect(await cli('workers', 'list', '--queue', 'q-work')).toMatch(/│ mailer-1 │ ready\s+│/)
  })

  it('workers health counts by status', async () => {
    expect(await cliJson('workers', 'health', '--queue', 'q-work')).toMatchObject({
      total: 1,
      ready: 1,
      suspended: 0,
      stale: 0,
    })
    // with --stale-after 1 (ms) every live worker is stale
    const stale = await cliJson('workers', 'health', '--stale-after', '1')
    expect(stale.stale).toBeGreaterThanOrEqual(2)
    expect(await cli('workers', 'health')).toMatch(/total\s+│ \d+/)
  })

  it('suspend and resume by name or id; illegal transitions exit 1', async () => {
    expect(await cliJson('workers', 'suspend', 'mailer-1')).toMatchObject({ status: 'suspended' })
    expectError(
      await cliRaw('workers', 'suspend', 'mailer-1'),
      /Cannot move worker from suspended to suspended/,
    )
    expect(await cli('workers', 'resume', String(workerId))).toMatch(/status\s+│ ready/)
    expect(await cliJson('workers', 'list', '--queue', 'q-work')).toMatchObject([
      { status: 'ready' },
    ])
    expectError(
      await cliRaw('workers', 'resume', 'mailer-1'),
      /Cannot move worker from ready to ready/,
    )
    expectError(await cliRaw('workers', 'suspend', 'nobody'), /worker "nobody" not found/)
  })

  it('workers reclaim refuses a fresh heartbeat, and frees the name with --force or once stale', async () => {
    await withLibrary(dsn, (store) =>
      store.workers.register({ name: 'crashed-box', hostname: 'gone', pid: 7 }),
    )
    expectError(await cliRaw('workers', 'reclaim', 'crashed-box'), /looks alive/)
    expect(await cliJson('workers', 'reclaim', 'crashed-box', '--force')).toMatchObject({
      name: 'crashed-box',
      status: 'stopped',
    })
    await withLibrary(dsn, (store) =>
      store.workers.register({ name: 'stale-box', hostname: 'gone', pid: 8 }),
    )
    await new Promise((r) => setTimeout(r, 50))
    expect(await cliJson('workers', 'reclaim', 'stale-box', '--stale-after', '10')).toMatchObject({
      status: 'stopped',
    })
  })

  it('control characters and bidi overrides in stored text are escaped in tables, exact in JSON', async () => {
    const evil = 'evil\u001b]0;pwned\u0007\u202egnp.exe'
    await withLibrary(dsn, (store) =>
      store.workers.register({ name: evil, hostname: 'h\u001b[2J', pid: 9 }),
    )
    const table = await cli('workers', 'list')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach the terminal
    expect(table).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/)
    expect(table).toContain('evil\\x1b]0;pwned\\x07\\u202egnp.exe')
    expect(table).toContain('h\\x1b[2J')
    const json = await cliJson<{ name: string; hostname: string }[]>('workers', 'list')
    expect(json.find((w) => w.name === evil)?.hostname).toBe('h\u001b[2J')
    // an error that quotes what it was given is escaped too
    const refused = await cliRaw('workers', 'suspend', 'ghost\u202eeman')
    expect(refused.code).toBe(1)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach the terminal
    expect(refused.stderr).not.toMatch(/[\u001b\u0007\u202e]/)
    expect(refused.stderr).toContain('ghost\\u202eeman')
  })
})

describe('runs (SQLite)', () => {
  let ids = { done: 0, queued: 0 }
  beforeAll(async () => {
    ids = await withLibrary(dsn, (store) => seedRuns(store, 'wf-report'))
  })

  it('runs list, newest first, filtered by workflow, status and limit', async () => {
    const list = await cliJson<{ id: number }[]>('runs', 'list', '--workflow', 'wf-report')
    expect(list.map((r) => r.id)).toEqual([ids.queued, ids.done])
    expect(await cliJson('runs', 'list', '--status', 'success')).toMatchObject([
      { id: ids.done, status: 'SUCCESS', output: { sent: 3 } },
    ])
    expect(await cliJson('runs', 'list', '--status', 'QUEUED,RUNNING')).toMatchObject([
      { id: ids.queued },
    ])
    expect(await cliJson('runs', 'list', '--limit', '1')).toHaveLength(1)
    expect(await cliJson('runs', 'list', '--workflow', 'wf-none')).toEqual([])
    expect(await cli('runs', 'list')).toMatch(/│ wf-report │ SUCCESS\s+│[\s\S]*\{"sent":3\}/)
  })

  it('runs show prints the run and its steps', async () => {
    const shown = await cliJson('runs', 'show', String(ids.done))
    expect(shown.run).toMatchObject({ id: ids.done, workflow: 'wf-report', status: 'SUCCESS' })
    expect(shown.steps).toMatchObject([
      { stepKey: 'fetch', status: 'SUCCESS', output: { rows: 3 } },
    ])
    const table = await cli('runs', 'show', String(ids.done))
    expect(table).toMatch(
      /status\s+│ SUCCESS[\s\S]*steps:[\s\S]*│ fetch │ SUCCESS │[\s\S]*\{"rows":3\}/,
    )
    expectError(await cliRaw('runs', 'show', '99999'), /run 99999 not found/)
  })

  it("runs show lists a run's children; runs list --parent and runs tree show the tree", async () => {
    const tree = await withLibrary(dsn, async (store) => {
      await store.workflows.ensure('wf-kid')
      const parent = ids.done
      const { run: a } = await store.runs.start(
        'wf-kid',
        { n: 1 },
        {
          parent: { runId: parent, stepKey: 'child:wf-kid' },
        },
      )
      const { run: b } = await store.runs.start(
        'wf-kid',
        { n: 2 },
        {
          parent: { runId: parent, stepKey: 'child:wf-kid#2' },
        },
      )
      const { run: grandchild } = await store.runs.start(
        'wf-kid',
        { n: 3 },
        {
          parent: { runId: a.id, stepKey: 'child:wf-kid' },
        },
      )
      return { a: a.id, b: b.id, grandchild: grandchild.id }
    })
    const shown = await cliJson<{ children: { id: number; parentId: number }[] }>(
      'runs',
      'show',
      String(ids.done),
    )
    expect(shown.children.map((c) => [c.id, c.parentId])).toEqual([
      [tree.b, ids.done],
      [tree.a, ids.done],
    ])
    expect(await cli('runs', 'show', String(ids.done))).toMatch(
      /children:[\s\S]*│ wf-kid\s+│ QUEUED/,
    )
    const listed = await cliJson<{ id: number; parentStep: string }[]>(
      'runs',
      'list',
      '--parent',
      String(tree.a),
    )
    expect(listed).toMatchObject([{ id: tree.grandchild, parentStep: 'child:wf-kid' }])
    expect(await cli('runs', 'tree', String(ids.done))).toBe(
      [
        `${ids.done} wf-report SUCCESS`,
        `  ${tree.a} wf-kid QUEUED  (from step child:wf-kid)`,
        `    ${tree.grandchild} wf-kid QUEUED  (from step child:wf-kid)`,
        `  ${tree.b} wf-kid QUEUED  (from step child:wf-kid#2)`,
        '',
      ].join('\n'),
    )
    const cut = await cli('runs', 'tree', String(ids.done), '--depth', '1', '--limit', '1')
    expect(cut).toContain(`  ${tree.b} wf-kid QUEUED`)
    expect(cut).not.toContain(String(tree.grandchild))
    expect(cut).toContain('… (more children')
    const json = await cliJson<{ run: { id: number }; children: { run: { id: number } }[] }>(
      'runs',
      'tree',
      String(ids.done),
    )
    expect(json.children.map((c) => c.run.id)).toEqual([tree.a, tree.b])
    expectError(await cliRaw('runs', 'tree', '99999'), /run 99999 not found/)
  })

  it('runs send-event stores an event for the run once per idempotency key; runs events and runs show list it', async () => {
    const sent = await cliJson(
      'runs',
      'send-event',
      String(ids.queued),
      'approve',
      '{"by":"ada"}',
      '--idempotency-key',
      'k1',
    )
    expect(sent).toMatchObject({
      created: true,
      woke: false,
      event: { runId: ids.queued, name: 'approve', payload: { by: 'ada' }, consumedBy: null },
    })
    const again = await cliJson(
      'runs',
      'send-event',
      String(ids.queued),
      'approve',
      '{"by":"bob"}',
      '--idempotency-key',
      'k1',
    )
    expect(again).toMatchObject({ created: false, event: { payload: { by: 'ada' } } })
    expect(await cli('runs', 'send-event', String(ids.queued), 'ping')).toMatch(
      /│ ping\s+│[\s\S]*\(pending\)/,
    )
    const events = await cliJson<{ name: string; payload: unknown }[]>(
      'runs',
      'events',
      String(ids.queued),
    )
    expect(events.map((e) => [e.name, e.payload])).toEqual([
      ['approve', { by: 'ada' }],
      ['ping', null],
    ])
    expect((await cliJson('runs', 'show', String(ids.queued))).events).toHaveLength(2)
    expectError(await cliRaw('runs', 'send-event', '99999', 'x'), /run 99999 not found/)
    expectError(await cliRaw('runs', 'events', '99999'), /run 99999 not found/)
    expectUsage(
      await cliRaw('runs', 'send-event', String(ids.queued), 'x', '{bad'),
      /Not valid JSON/,
    )
  })

  it('runs cancel moves a queued run to CANCELLING; a finished run cannot be cancelled', async () => {
    expect(await cliJson('runs', 'cancel', String(ids.queued))).toMatchObject({
      id: ids.queued,
      status: 'CANCELLING',
    })
    expect(await cliJson('runs', 'show', String(ids.queued))).toMatchObject({
      run: { status: 'CANCELLING' },
      steps: [],
    })
    expectError(
      await cliRaw('runs', 'cancel', String(ids.done)),
      /Cannot move run from SUCCESS to CANCELLING/,
    )
  })
})

describe('schedules (SQLite)', () => {
  beforeAll(async () => {
    await cli('queue', 'create', 'q-sched')
    await withLibrary(dsn, (store) =>
      schedule(store, { name: 'nightly', cron: '0 3 * * *', queue: 'q-sched', catchUp: 'latest' }),
    )
  })

  it('list, get, pause, resume and remove', async () => {
    const list = await cliJson<{ name: string; cron: string }[]>('schedules', 'list')
    expect(list).toMatchObject([{ name: 'nightly', cron: '0 3 * * *', catchUp: 'latest' }])
    expect(await cli('schedules', 'list')).toMatch(
      /nightly\s+│ 0 3 \* \* \*\s+│ UTC\s+│ queue q-sched\s+│ running/,
    )
    expect(await cliJson('schedules', 'get', 'nightly')).toMatchObject({ target: 'q-sched' })
    const paused = await cliJson<{ pausedAt: string | null }>('schedules', 'pause', 'nightly')
    expect(paused.pausedAt).not.toBeNull()
    expect(await cli('schedules', 'list')).toMatch(/nightly[^\n]*│ paused/)
    const resumed = await cliJson<{ pausedAt: string | null }>('schedules', 'resume', 'nightly')
    expect(resumed.pausedAt).toBeNull()
    expect(await cliJson('schedules', 'remove', 'nightly')).toEqual({
      name: 'nightly',
      removed: true,
    })
    expect(await cliJson('schedules', 'remove', 'nightly')).toEqual({
      name: 'nightly',
      removed: false,
    })
    expectError(await cliRaw('schedules', 'pause', 'nightly'), /schedule "nightly" not found/)
  })
})
