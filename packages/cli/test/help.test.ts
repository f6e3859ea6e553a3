import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { expectUsage, pgqrs, tempDir } from './helpers.js'

/** Every command, with the options its help must list. */
const COMMANDS: readonly (readonly [string, readonly string[]])[] = [
  ['', ['--dsn <url>', '--schema <name>', '--format <format>', '--version']],
  ['install', []],
  ['verify', []],
  ['queue', []],
  ['queue create', ['--max-concurrency <n>', '--concurrency-per-key <n>', '--rate <max/ms>']],
  [
    'queue limits',
    ['--max-concurrency <n>', '--concurrency-per-key <n>', '--rate <max/ms>', '--rate-per-key'],
  ],
  ['queue list', []],
  ['queue get', []],
  ['queue delete', ['--force']],
  ['queue purge', []],
  ['queue metrics', []],
  [
    'send',
    [
      '--delay <ms>',
      '--priority <n>',
      '--dedupe-key <key>',
      '--max-attempts <n>',
      '--concurrency-key <key>',
    ],
  ],
  ['messages', ['--state <state>', '--limit <n>']],
  ['dlq', []],
  ['dlq list', ['--limit <n>']],
  ['dlq replay', []],
  ['workers', []],
  ['workers list', ['--queue <name>']],
  ['workers health', ['--queue <name>', '--stale-after <ms>']],
  ['workers suspend', []],
  ['workers resume', []],
  ['runs', []],
  ['runs list', ['--workflow <name>', '--status <status>', '--parent <id>', '--limit <n>']],
  ['runs show', ['--children <n>']],
  ['runs tree', ['--depth <n>', '--limit <n>']],
  ['runs cancel', []],
  ['runs send-event', ['--idempotency-key <key>']],
  ['runs events', []],
  ['schedules', []],
  ['schedules list', ['--limit <n>', '--after <name>']],
  ['schedules get', []],
  ['schedules pause', []],
  ['schedules resume', []],
  ['schedules remove', []],
  ['stats', ['--watch', '--interval <ms>']],
  ['dashboard', ['--port <n>', '--host <address>', '--read-only', '--base-path <path>']],
]

describe('pgqrs --help', () => {
  it.concurrent.each(COMMANDS)(
    '`pgqrs %s --help` exits 0 and lists its options',
    async (path, options) => {
      const words = path ? path.split(' ') : []
      const r = await pgqrs([...words, '--help'])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toBe('')
      expect(r.stdout).toContain(`Usage: ${['pgqrs', ...words].join(' ')} `)
      for (const option of [...options, '-h, --help']) expect(r.stdout).toContain(option)
      // the global options are listed on every subcommand's help
      if (path) expect(r.stdout).toMatch(/Global Options:[\s\S]*--dsn <url>/)
    },
  )

  it('`pgqrs help queue` shows the help of queue', async () => {
    const r = await pgqrs(['help', 'queue'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      /Usage: pgqrs queue[\s\S]*create (\[options\] )?<name>[\s\S]*metrics (\[options\] )?\[name\]/,
    )
  })

  it('the top-level help documents the exit codes and PGQRS_DSN', async () => {
    const r = await pgqrs(['--help'])
    expect(r.stdout).toMatch(/0 success, 1 error .*2 usage error/)
    expect(r.stdout).toContain('PGQRS_DSN')
  })
})

describe('pgqrs usage errors exit 2 with the usage of the command on stderr', () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())
  const db = join(tmp.dir, 'never-created.db')
  const dsn = ['--dsn', `sqlite://${db}`]

  const CASES: readonly (readonly [string, readonly string[], RegExp, RegExp])[] = [
    [
      'a missing argument',
      ['queue', 'create'],
      /missing required argument 'name'/,
      /Usage: pgqrs queue create/,
    ],
    [
      'an unknown option',
      ['queue', 'list', '--bogus'],
      /unknown option '--bogus'/,
      /Usage: pgqrs queue list/,
    ],
    ['an unknown subcommand', ['queue', 'frob'], /unknown command 'frob'/, /Usage: pgqrs queue/],
    [
      'too many arguments',
      ['queue', 'get', 'a', 'b'],
      /too many arguments/,
      /Usage: pgqrs queue get/,
    ],
    ['invalid JSON for send', ['send', 'jobs', '{a:1}'], /Not valid JSON/, /Usage: pgqrs send/],
    [
      'an invalid --format',
      ['stats', '--format', 'xml'],
      /Allowed choices are table, json/,
      /Usage: pgqrs/,
    ],
    [
      'an invalid --state',
      ['messages', 'jobs', '--state', 'lost'],
      /Allowed choices are active, pending/,
      /Usage: pgqrs messages/,
    ],
    [
      'a non-integer --delay',
      ['send', 'jobs', '1', '--delay', '1.5'],
      /--delay <ms>.*integer/,
      /Usage: pgqrs send/,
    ],
    [
      'a zero --limit',
      ['dlq', 'list', 'jobs', '--limit', '0'],
      /integer ≥ 1/,
      /Usage: pgqrs dlq list/,
    ],
    ['a non-numeric id', ['dlq', 'replay', 'abc'], /argument 'id'/, /Usage: pgqrs dlq replay/],
    [
      'an unknown run status',
      ['runs', 'list', '--status', 'DONE'],
      /use one or more of QUEUED/,
      /Usage: pgqrs runs list/,
    ],
    [
      'a missing option value',
      ['send', 'jobs', '1', '--priority'],
      /option '--priority <n>' argument missing/,
      /Usage: pgqrs send/,
    ],
  ]

  it.concurrent.each(CASES)('%s', async (_name, args, message, usage) => {
    expectUsage(await pgqrs([...dsn, ...args]), message, usage)
  })

  it('a usage error never opens the database', () => {
    // runs after the cases above: none of them created the SQLite file
    expect(existsSync(db)).toBe(false)
  })
})
