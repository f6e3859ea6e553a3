import type { QueueMetrics } from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import { MetricsSampler, ratesBetween } from '../dist/index.js'

function metrics(name: string, archived: number, dead: number, pending = 0): QueueMetrics {
  return {
    name,
    pending,
    leased: 0,
    delayed: 0,
    archived,
    dead,
    oldestPendingAgeMs: null,
    newestEnqueuedAt: null,
  }
}

describe('ratesBetween', () => {
  it('turns count deltas into rates, per queue or summed', () => {
    const a = { at: 0, queues: [metrics('a', 100, 1, 10), metrics('b', 0, 0)] }
    const b = { at: 2_000, queues: [metrics('a', 140, 11, 30), metrics('b', 10, 0)] }
    expect(ratesBetween(a, b)).toEqual({
      at: 2_000,
      throughput: 25,
      enqueued: 40,
      failureRate: 10 / 60,
    })
    expect(ratesBetween(a, b, 'b')).toMatchObject({ throughput: 5, failureRate: 0 })
  })

  it('counts a purge or a replay (counts going down) as zero, and no finished message as null', () => {
    const a = { at: 0, queues: [metrics('a', 100, 5)] }
    const b = { at: 1_000, queues: [metrics('a', 10, 0), metrics('new', 3, 0)] }
    expect(ratesBetween(a, b)).toEqual({ at: 1_000, throughput: 0, enqueued: 0, failureRate: null })
  })
})

describe('MetricsSampler', () => {
  it('keeps at most `capacity` samples and reads once for concurrent callers', async () => {
    let reads = 0
    const s = new MetricsSampler(
      async () => {
        reads++
        return [metrics('a', reads * 10, 0)]
      },
      { capacity: 3 },
    )
    await Promise.all([s.sample(), s.sample(), s.current()])
    expect(reads).toBe(1)
    for (let i = 0; i < 5; i++) await s.sample()
    expect(reads).toBe(6)
    expect(s.rates()).toHaveLength(2)
    s.close()
  })

  it('serves the last sample to page views while a stale one refreshes in the background', async () => {
    let reads = 0
    let release: () => void = () => {}
    const s = new MetricsSampler(
      async () => {
        reads++
        if (reads > 1) await new Promise<void>((r) => (release = r))
        return [metrics('a', reads, 0)]
      },
      { intervalMs: 500 },
    )
    const first = await s.current()
    expect(await s.current()).toBe(first) // fresh: no read
    expect(reads).toBe(1)
    ;(first as { at: number }).at -= 2_000 // pretend it is old
    expect(await s.current()).toBe(first) // answered at once, a read started
    expect(reads).toBe(2)
    release()
    s.close()
  })

  it('a page view waits for the first sample at most waitMs, then gets null', async () => {
    let release: () => void = () => {}
    const s = new MetricsSampler(async () => {
      await new Promise<void>((r) => (release = r))
      return [metrics('a', 1, 0)]
    })
    expect(await s.current(30)).toBeNull()
    release()
    await new Promise((r) => setTimeout(r, 10))
    expect((await s.current(30))?.queues[0]?.name).toBe('a')
    s.close()
  })

  it('reports a failed sample and keeps serving the one before', async () => {
    let fail = false
    const s = new MetricsSampler(async () => {
      if (fail) throw new Error('database down')
      return [metrics('a', 1, 0)]
    })
    const ok = await s.sample()
    fail = true
    await expect(s.sample()).rejects.toThrow('database down')
    expect(s.lastError?.message).toBe('database down')
    expect(await s.current()).toBe(ok)
    s.close()
  })

  it('samples on its timer only while touched', async () => {
    let reads = 0
    const s = new MetricsSampler(
      async () => {
        reads++
        return []
      },
      { intervalMs: 50, idleMs: 120 },
    )
    await new Promise((r) => setTimeout(r, 120))
    expect(reads).toBe(0) // never touched: never sampled
    s.touch()
    await new Promise((r) => setTimeout(r, 400))
    const afterIdle = reads
    expect(afterIdle).toBeGreaterThanOrEqual(1)
    expect(afterIdle).toBeLessThanOrEqual(4)
    await new Promise((r) => setTimeout(r, 200))
    expect(reads).toBe(afterIdle) // idle: the timer skips
    s.close()
  })
})
