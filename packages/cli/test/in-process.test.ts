import { createServer, type Server } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { EXIT, run } from '../src/index.js'
import { startProgress } from '../src/progress.js'

/** What the spinner writes first on every redraw and when it erases its line. */
const CLEAR = '\r\x1b[2K'

/** Collects what `run()` writes. */
function capture(options: { env?: Record<string, string>; tty?: boolean } = {}) {
  const out: string[] = []
  const err: string[] = []
  return {
    io: {
      stdout: (s: string) => void out.push(s),
      stderr: (s: string) => void err.push(s),
      env: options.env ?? {},
      stderrIsTTY: options.tty ?? false,
    },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  }
}

describe('the progress spinner', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('draws nothing when stderr is not a terminal', () => {
    vi.useFakeTimers()
    const writes: string[] = []
    const p = startProgress((s) => writes.push(s), 'installing', { enabled: false })
    vi.advanceTimersByTime(5_000)
    p.stop()
    expect(writes).toEqual([])
  })

  it('draws nothing for a command that ends before the delay', () => {
    vi.useFakeTimers()
    const writes: string[] = []
    const p = startProgress((s) => writes.push(s), 'installing', { enabled: true, delayMs: 300 })
    vi.advanceTimersByTime(250)
    p.stop()
    vi.advanceTimersByTime(1_000)
    expect(writes).toEqual([])
  })

  it('spins after the delay, then erases its line once', () => {
    vi.useFakeTimers()
    const writes: string[] = []
    const p = startProgress((s) => writes.push(s), 'installing the pgqrs schema', {
      enabled: true,
      delayMs: 300,
      intervalMs: 100,
    })
    vi.advanceTimersByTime(550)
    expect(writes.length).toBe(3)
    expect(writes.every((w) => w.startsWith(CLEAR))).toBe(true)
    expect(writes[0]!.slice(CLEAR.length)).toMatch(/^. installing the pgqrs schema \(0\.3s\)$/)
    // the frame changes on every redraw
    expect(new Set(writes.map((w) => w.slice(CLEAR.length, CLEAR.length + 1))).size).toBe(3)
    p.stop()
    p.stop()
    expect(writes.at(-1)).toBe(CLEAR)
    expect(writes.length).toBe(4)
    vi.advanceTimersByTime(1_000)
    expect(writes.length).toBe(4)
  })
})

describe('run(argv, io) in-process', () => {
  let server: Server
  let port = 0
  beforeAll(async () => {
    // accepts connections and never answers: connecting waits for PGQRS_CONNECT_TIMEOUT_MS
    server = createServer(() => {})
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })
  afterAll(() => {
    server.close()
  })

  it('returns the exit code and writes only to the injected writers', async () => {
    const ok = capture()
    expect(await run(['--version'], ok.io)).toBe(EXIT.ok)
    expect(ok.stdout()).toMatch(/^\d+\.\d+\.\d+\n$/)
    const usage = capture()
    expect(await run(['queue', 'nope'], usage.io)).toBe(EXIT.usage)
    expect(usage.stderr()).toMatch(/^pgqrs: unknown command 'nope'[\s\S]*Usage: pgqrs queue/)
    expect(usage.stdout()).toBe('')
  })

  it('reads PGQRS_* from the injected env', async () => {
    const c = capture({ env: { PGQRS_DSN: 'mysql://from-env' } })
    expect(await run(['stats'], c.io)).toBe(EXIT.error)
    expect(c.stderr()).toBe(
      'pgqrs: Unsupported DSN scheme "mysql:": use one of postgres:, postgresql:, sqlite:, turso:, libsql:\n',
    )
  })

  it('on a terminal, shows a spinner while connecting, erases it, then prints the error line', async () => {
    const c = capture({ env: { PGQRS_CONNECT_TIMEOUT_MS: '800' }, tty: true })
    const code = await run(['--dsn', `postgres://postgres@127.0.0.1:${port}/x`, 'stats'], c.io)
    expect(code).toBe(EXIT.error)
    const err = c.stderr()
    const frames = err.split(CLEAR)
    expect(frames[0]).toBe('')
    expect(frames[1]).toMatch(/^. reading stats \(\d+\.\ds\)$/)
    // the last write erased the spinner; then comes the one error line
    expect(frames.at(-1)).toMatch(/^pgqrs: [^\n]*PostgreSQL[^\n]*\n$/)
  })

  it('off a terminal, the same error is exactly one line', async () => {
    const c = capture({ env: { PGQRS_CONNECT_TIMEOUT_MS: '500' } })
    expect(await run(['--dsn', `postgres://postgres@127.0.0.1:${port}/x`, 'stats'], c.io)).toBe(
      EXIT.error,
    )
    expect(c.stderr()).toMatch(/^pgqrs: [^\n]*PostgreSQL[^\n]*\n$/)
  })
})
