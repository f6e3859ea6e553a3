import { describe, expect, it } from 'vitest'
import { StatementCache } from '../src/statement-cache.js'

describe('StatementCache', () => {
  it('prepares a SQL text once and reuses its statement', () => {
    const cache = new StatementCache<{ sql: string }>(4)
    let prepared = 0
    const prepare = (sql: string) => {
      prepared++
      return { sql }
    }
    const a = cache.get('select 1', prepare)
    expect(cache.get('select 1', prepare)).toBe(a)
    expect(prepared).toBe(1)
  })

  it('keeps at most max statements, dropping the least recently used', () => {
    const cache = new StatementCache<string>(2)
    const prepared: string[] = []
    const prepare = (sql: string) => {
      prepared.push(sql)
      return sql
    }
    cache.get('a', prepare)
    cache.get('b', prepare)
    cache.get('a', prepare) // a is now the most recent
    cache.get('c', prepare) // drops b
    expect(cache.size).toBe(2)
    cache.get('a', prepare)
    cache.get('b', prepare)
    expect(prepared).toEqual(['a', 'b', 'c', 'b'])
  })

  it('prepares a one-off statement when the cached one is busy, keeping the cached one', () => {
    const cache = new StatementCache<{ busy: boolean }>(2)
    const first = cache.get('q', () => ({ busy: false }))
    first.busy = true
    const other = cache.get(
      'q',
      () => ({ busy: false }),
      (s) => !s.busy,
    )
    expect(other).not.toBe(first)
    first.busy = false
    expect(cache.get('q', () => ({ busy: false }))).toBe(first)
  })
})
