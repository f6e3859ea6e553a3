import { describe, expect, it } from 'vitest'
import { rejection, uniqueName, waitFor } from '../src/util.js'

describe('util', () => {
  it('rejection fails when the promise resolves', async () => {
    await expect(rejection(Promise.resolve(1))).rejects.toThrow(/expected a rejection/)
    expect(await rejection(Promise.reject(new Error('x')))).toBeInstanceOf(Error)
  })
  it('uniqueName is valid', () => {
    for (const p of ['', '-x', 'a b c', 'é'.repeat(200), 'fine']) {
      expect(uniqueName(p)).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/)
    }
  })
  it('waitFor times out', async () => {
    await expect(waitFor(() => false, { timeoutMs: 50 })).rejects.toThrow(/not met/)
    expect(await waitFor(() => 3)).toBe(3)
  })
})
