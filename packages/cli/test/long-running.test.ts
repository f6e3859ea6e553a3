import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '../src/index.js'
import { CLI, boundCli, tempDir } from './helpers.js'

// One SQLite file for this file; `pgqrs dashboard` and `pgqrs stats --watch` run until a signal.
const tmp = tempDir()
const dsn = `sqlite://${join(tmp.dir, 'long.db')}`
const { cli } = boundCli(['--dsn', dsn])

beforeAll(async () => {
  await cli('install')
  await cli('queue', 'create', 'jobs')
  await cli('send', 'jobs', '{"n":1}')
})
afterAll(() => tmp.remove())

/** A `pgqrs` process that keeps running: its output so far, and a way to wait for some of it. */
interface Running {
  readonly child: ChildProcessWithoutNullStreams
  stdout(): string
  stderr(): string
  /** Resolves with the first match of `re` on stdout (fails after 10 s). */
  waitFor(re: RegExp): Promise<RegExpMatchArray>
  /** Sends `signal` and resolves with the exit code. */
  stop(signal: NodeJS.Signals): Promise<number | null>
}

function start(args: readonly string[], env: Record<string, string> = {}): Running {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('PGQRS_')),
  )
  const child = spawn(process.execPath, [CLI, '--dsn', dsn, ...args], { env: { ...clean, ...env } })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d
  })
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async waitFor(re) {
      const deadline = Date.now() + 10_000
      for (;;) {
        const m = out.match(re)
        if (m) return m
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no ${re} in stdout:\n${out}\nstderr:\n${err}`)
        }
        await new Promise((r) => setTimeout(r, 25))
      }
    },
    async stop(signal) {
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}

const URL_LINE = /pgqrs dashboard on (http:\/\/127\.0\.0\.1:\d+\/(?:[\w/-]*\/)?)[^\n]*\n/

describe('pgqrs dashboard', () => {
  it('serves the dashboard until SIGTERM, then exits 0', async () => {
    const p = start(['dashboard', '--port', '0'])
    const [line, url] = await p.waitFor(URL_LINE)
    expect(line).not.toMatch(/read-only|token/)
    const home = await fetch(url!)
    expect(home.status).toBe(200)
    expect(await home.text()).toContain('href="/queues/jobs"')
    expect(await p.stop('SIGTERM')).toBe(0)
    expect(p.stdout()).toMatch(/dashboard stopped\n$/)
    expect(p.stderr()).toBe('')
  })

  it('--read-only with PGQRS_DASHBOARD_TOKEN under --base-path: token required, actions refused', async () => {
    const token = 'tok-from-env-123'
    const p = start(['dashboard', '--port', '0', '--read-only', '--base-path', '/pgqrs'], {
      PGQRS_DASHBOARD_TOKEN: token,
    })
    const [line, url] = await p.waitFor(URL_LINE)
    expect(line).toContain('(read-only, token required)')
    expect(line).not.toContain(token)
    expect(url).toMatch(/\/pgqrs\/$/)
    const anonymous = await fetch(url!, { redirect: 'manual' })
    expect(anonymous.status).toBe(303)
    expect(anonymous.headers.get('location')).toMatch(/^\/pgqrs\/login/)
    const auth = { Authorization: `Bearer ${token}` }
    const page = await fetch(`${url}queues/jobs`, { headers: auth })
    expect(page.status).toBe(200)
    expect(await page.text()).not.toContain('data-action')
    const post = await fetch(`${url}messages/1/replay`, { method: 'POST', headers: auth })
    expect(post.status).toBe(403)
    expect(await p.stop('SIGINT')).toBe(0)
  })

  it('a port in use is an error that says so (exit 1)', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const { port } = blocker.address() as { port: number }
    try {
      const p = start(['dashboard', '--port', String(port)])
      const code = await new Promise<number | null>((r) => p.child.on('close', r))
      expect(code).toBe(1)
      expect(p.stderr()).toMatch(/^pgqrs: cannot listen on 127\.0\.0\.1:\d+: the port is in use/)
    } finally {
      blocker.close()
    }
  })

  it('warns when it listens beyond loopback without a token', async () => {
    const p = start(['dashboard', '--port', '0', '--host', '0.0.0.0', '--read-only'])
    await p.waitFor(/pgqrs dashboard on/)
    expect(await p.stop('SIGTERM')).toBe(0)
    expect(p.stderr()).toMatch(
      /warning: the dashboard listens on 0\.0\.0\.0 without PGQRS_DASHBOARD_TOKEN/,
    )
  })
})

describe('pgqrs stats --watch', () => {
  it('prints a frame per interval in a pipe until SIGINT, then exits 0', async () => {
    const p = start(['stats', '--watch', '--interval', '200'])
    await p.waitFor(/(pgqrs stats · sqlite[\s\S]*){3}/)
    expect(await p.stop('SIGINT')).toBe(0)
    const frames = p.stdout().split('pgqrs stats · ').slice(1)
    expect(frames.length).toBeGreaterThanOrEqual(3)
    expect(frames[0]).toMatch(/│ queue\s+│ pending\s+│ delayed\s+│ in flight/)
    expect(frames[0]).toMatch(/│ jobs\s+│ 1\s+│/)
    // exact counts: the SQLite store counts runs by status (runs.counts)
    expect(frames[1]).toMatch(/\nworkers: 0 live[^\n]*\nruns: QUEUED 0/)
    expect(p.stdout()).not.toContain('\u001b[') // no escape codes in a pipe
  })

  it('--format json prints one JSON document per line and refresh', async () => {
    const p = start(['stats', '--watch', '--interval', '200', '--format', 'json'])
    await p.waitFor(/(\{"at"[^\n]*\n){2}/)
    expect(await p.stop('SIGTERM')).toBe(0)
    const lines = p
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines[0]).toMatchObject({ queues: [{ name: 'jobs', pending: 1, handledPerSec: null }] })
    expect(lines[1].queues[0].handledPerSec).toBe(0)
  })

  it('redraws in place on a terminal, and ends when io.signal aborts (in-process)', async () => {
    const out: string[] = []
    const controller = new AbortController()
    // stop after the second frame (log-update rewrites only the lines that changed: the header)
    const frames = () => out.join('').match(/pgqrs stats · sqlite/g)?.length ?? 0
    const check = setInterval(() => frames() >= 2 && controller.abort(), 20)
    setTimeout(() => controller.abort(), 10_000)
    const code = await run(['--dsn', dsn, 'stats', '--watch', '--interval', '200'], {
      stdout: (s) => void out.push(s),
      stderr: (s) => void out.push(`[stderr] ${s}`),
      env: {},
      stdoutIsTTY: true,
      terminalSize: () => ({ columns: 120, rows: 30 }),
      signal: controller.signal,
    })
    clearInterval(check)
    expect(code).toBe(0)
    const text = out.join('')
    expect(text).not.toContain('[stderr]')
    expect(text.match(/pgqrs stats · sqlite/g)?.length).toBeGreaterThanOrEqual(2)
    expect(text).toContain('\u001b[') // cursor moves and line erases: the frame is redrawn in place
  })
})
