import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  consoleLogger,
  type Logger,
  RUN_STATUSES,
  RUN_TRANSITIONS,
  silentLogger,
  TERMINAL_RUN_STATUSES,
  WORKER_STATUSES,
  WORKER_TRANSITIONS,
  withScope,
} from '../src/index.js'

describe('transition tables', () => {
  it('cover every worker status and name only known statuses', () => {
    expect(Object.keys(WORKER_TRANSITIONS).sort()).toEqual([...WORKER_STATUSES].sort())
    for (const from of Object.values(WORKER_TRANSITIONS)) {
      for (const s of from) expect(WORKER_STATUSES).toContain(s)
    }
  })

  it('a stopped worker is entered only from suspended (shutdown)', () => {
    expect(WORKER_TRANSITIONS.stopped).toEqual(['suspended'])
    expect(WORKER_TRANSITIONS.ready).not.toContain('stopped')
  })

  it('cover every run status, and a terminal run never moves again', () => {
    expect(Object.keys(RUN_TRANSITIONS).sort()).toEqual([...RUN_STATUSES].sort())
    for (const [to, from] of Object.entries(RUN_TRANSITIONS)) {
      for (const s of from) {
        expect(RUN_STATUSES).toContain(s)
        expect(TERMINAL_RUN_STATUSES, `${s} → ${to}`).not.toContain(s)
      }
    }
  })

  it('runs complete or fail only from RUNNING', () => {
    expect(RUN_TRANSITIONS.SUCCESS).toEqual(['RUNNING'])
    expect(RUN_TRANSITIONS.ERROR).toEqual(['RUNNING'])
    expect(RUN_TRANSITIONS.QUEUED).toEqual([])
  })
})

describe('loggers', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('consoleLogger prints warn and error with a pgqrs: prefix and drops debug and info', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    const info = vi.spyOn(console, 'info').mockImplementation(() => {})
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {})
    consoleLogger.debug('d')
    consoleLogger.info('i')
    consoleLogger.warn('lease lost', { messageId: 3 })
    consoleLogger.error('boom')
    expect(warn).toHaveBeenCalledWith('pgqrs: lease lost', { messageId: 3 })
    expect(error).toHaveBeenCalledWith('pgqrs: boom')
    for (const spy of [log, info, debug]) expect(spy).not.toHaveBeenCalled()
  })

  it('silentLogger drops everything', () => {
    const spies = (['log', 'info', 'debug', 'warn', 'error'] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => {}),
    )
    for (const m of ['debug', 'info', 'warn', 'error'] as const) silentLogger[m]('x', { a: 1 })
    for (const spy of spies) expect(spy).not.toHaveBeenCalled()
  })

  it('withScope adds the scope to the meta of every level, the call’s meta winning', () => {
    const calls: [string, string, unknown][] = []
    const base: Logger = {
      debug: (m, meta) => calls.push(['debug', m, meta]),
      info: (m, meta) => calls.push(['info', m, meta]),
      warn: (m, meta) => calls.push(['warn', m, meta]),
      error: (m, meta) => calls.push(['error', m, meta]),
    }
    const scoped = withScope(base, { worker: 'w1', queue: 'q' })
    scoped.debug('a')
    scoped.info('b', { queue: 'other' })
    scoped.warn('c', { id: 1 })
    scoped.error('d')
    expect(calls).toEqual([
      ['debug', 'a', { worker: 'w1', queue: 'q' }],
      ['info', 'b', { worker: 'w1', queue: 'other' }],
      ['warn', 'c', { worker: 'w1', queue: 'q', id: 1 }],
      ['error', 'd', { worker: 'w1', queue: 'q' }],
    ])
  })
})
