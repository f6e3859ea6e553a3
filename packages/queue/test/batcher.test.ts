import { describe, expect, it } from 'vitest'
import { Batcher } from '../src/batcher.js'

describe('Batcher', () => {
  it('runs calls made in one turn as one batch and resolves each with its own result', async () => {
    const batches: number[][] = []
    const b = new Batcher<number, number>(async (xs) => {
      batches.push(xs)
      return xs.map((x) => x * 10)
    }, 100)
    const results = await Promise.all([1, 2, 3].map((x) => b.add(x)))
    expect(results).toEqual([10, 20, 30])
    expect(batches).toEqual([[1, 2, 3]])
  })
  it('flushes as soon as maxSize items wait', async () => {
    const batches: number[][] = []
    const b = new Batcher<number, boolean>(async (xs) => {
      batches.push(xs)
      return xs.map(() => true)
    }, 2)
    await Promise.all([1, 2, 3, 4, 5].map((x) => b.add(x)))
    expect(batches).toEqual([[1, 2], [3, 4], [5]])
  })
  it('rejects every call of a failed batch, and later batches still run', async () => {
    let fail = true
    const b = new Batcher<number, number>(async (xs) => {
      if (fail) throw new Error('store down')
      return xs
    }, 10)
    const first = await Promise.allSettled([b.add(1), b.add(2)])
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    fail = false
    await expect(b.add(3)).resolves.toBe(3)
  })
})
