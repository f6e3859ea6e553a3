import { describe, expect, it } from 'vitest'
import { Mutex } from '../src/mutex.js'

describe('Mutex', () => {
  it('runs holders one at a time, in arrival order', async () => {
    const m = new Mutex()
    const log: string[] = []
    let running = 0
    let maxRunning = 0
    const task = (name: string, ms: number) =>
      m.run(async () => {
        running++
        maxRunning = Math.max(maxRunning, running)
        log.push(`start ${name}`)
        await new Promise((r) => setTimeout(r, ms))
        log.push(`end ${name}`)
        running--
        return name
      })
    const results = await Promise.all([task('a', 20), task('b', 1), task('c', 5)])
    expect(results).toEqual(['a', 'b', 'c'])
    expect(maxRunning).toBe(1)
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c'])
  })
  it('a holder that throws releases the mutex for the next one', async () => {
    const m = new Mutex()
    await expect(m.run(async () => Promise.reject(new Error('x')))).rejects.toThrow('x')
    await expect(m.run(async () => 42)).resolves.toBe(42)
  })
})
