import { describe, expect, it } from 'vitest'
import { describeError } from '../src/index.js'

describe('describeError', () => {
  it("keeps the error's name, message and the first five stack frames", () => {
    const e = new TypeError('bad thing')
    const text = describeError(e)
    const lines = text.split('\n')
    expect(lines[0]).toBe('TypeError: bad thing')
    expect(lines.length).toBeLessThanOrEqual(6)
    expect(lines.slice(1).every((l) => /^\s+at /.test(l))).toBe(true)
  })

  it('uses a custom error class name', () => {
    class PaymentDeclined extends Error {
      override name = 'PaymentDeclined'
    }
    expect(describeError(new PaymentDeclined('card 4242')).split('\n')[0]).toBe(
      'PaymentDeclined: card 4242',
    )
  })

  it('describes thrown non-errors: strings, objects, undefined', () => {
    expect(describeError('plain string').split('\n')[0]).toBe('Error: plain string')
    expect(describeError({ code: 42 }).split('\n')[0]).toBe('Error: {"code":42}')
    expect(describeError(undefined).split('\n')[0]).toBe('Error: undefined')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(describeError(cyclic).split('\n')[0]).toBe('Error: [object Object]')
  })

  it('an error without a stack is just its head', () => {
    const e = new Error('no stack')
    e.stack = undefined
    expect(describeError(e)).toBe('Error: no stack')
  })

  it('a multi-line message appears once, followed by stack frames only', () => {
    const text = describeError(new Error('first line\nsecond line'))
    expect(text.startsWith('Error: first line\nsecond line\n')).toBe(true)
    expect(text.split('second line')).toHaveLength(2)
    const rest = text.slice('Error: first line\nsecond line\n'.length).split('\n')
    expect(
      rest.every((l) => /^\s+at /.test(l)),
      `after the message: ${JSON.stringify(rest)}`,
    ).toBe(true)
  })
})
