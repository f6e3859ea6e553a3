import { describe, expect, it } from 'vitest'
import {
  DEFAULT_VALIDATION,
  MAX_BATCH_SIZE,
  MAX_ENQUEUE_BATCH,
  NAME_PATTERN,
  resolveConfig,
  validateDate,
  validateInt,
  validateName,
  validatePayload,
  ValidationError,
} from '../src/index.js'

const V = DEFAULT_VALIDATION
const MiB = 1024 * 1024

/** Runs `fn` and returns the ValidationError it throws (fails the test for anything else). */
function validationError(fn: () => unknown): ValidationError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError)
    return err as ValidationError
  }
  throw new Error('expected a ValidationError, nothing was thrown')
}

/** `n` nested arrays around 0: nest(1) = [0], nest(2) = [[0]]. */
function nest(n: number): unknown {
  let v: unknown = 0
  for (let i = 0; i < n; i++) v = [v]
  return v
}

/** An object with an own enumerable key, even `__proto__` (which a literal would not create). */
function withKey(key: string, value: unknown): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
  return o
}

describe('validatePayload: valid payloads', () => {
  it.each([
    ['an object', { to: 'a@example.com', n: 1, ok: true, none: null }],
    ['an array', [1, 'two', { three: [3] }]],
    ['a string', 'hello'],
    ['a number', -12.5],
    ['zero', 0],
    ['true', true],
    ['null', null],
    ['unicode text', { text: 'héllo wörld – 日本語 🎉', 'clé 🔑': 'ok' }],
    ['an empty object', {}],
    ['an empty array', []],
  ])('accepts %s and returns its JSON', (_, payload) => {
    const text = validatePayload(payload, V)
    expect(text).toBe(JSON.stringify(payload))
    expect(JSON.parse(text)).toEqual(payload)
  })

  it('accepts an object without a prototype', () => {
    const o = Object.create(null) as Record<string, unknown>
    o.a = 1
    expect(validatePayload(o, V)).toBe('{"a":1}')
  })

  it('accepts the same (non-cyclic) object referenced twice', () => {
    const shared = { x: 1 }
    expect(validatePayload({ a: shared, b: [shared, shared] }, V)).toBe(
      '{"a":{"x":1},"b":[{"x":1},{"x":1}]}',
    )
  })

  it('accepts keys that only look like forbidden ones', () => {
    expect(() =>
      validatePayload({ Constructor: 1, proto: 2, __proto: 3, prototypes: 4 }, V),
    ).not.toThrow()
  })
})

describe('validatePayload: values that are not JSON', () => {
  const CYCLE: Record<string, unknown> = { a: { b: {} } }
  ;(CYCLE.a as { b: Record<string, unknown> }).b.back = CYCLE
  const CYCLIC_ARRAY: unknown[] = [1]
  CYCLIC_ARRAY.push({ list: CYCLIC_ARRAY })

  const SPARSE: unknown[] = [1]
  SPARSE[2] = 3

  class Job {
    id = 1
  }

  const BAD: [what: string, payload: unknown, field: string, says: RegExp][] = [
    ['undefined at the root', undefined, 'payload', /undefined/],
    ['an undefined property', { a: { b: undefined } }, 'payload.a.b', /undefined/],
    ['an undefined array element', [1, undefined], 'payload[1]', /undefined/],
    ['a hole in a sparse array', SPARSE, 'payload[1]', /undefined/],
    ['a BigInt', { n: 10n }, 'payload.n', /BigInt/],
    ['a function', { f: () => 1 }, 'payload.f', /function/],
    ['a toJSON method', { toJSON: () => 'x' }, 'payload.toJSON', /function/],
    ['a symbol', { s: Symbol('s') }, 'payload.s', /symbol/],
    ['a cycle', CYCLE, 'payload.a.b.back', /cycle/],
    ['a cycle through an array', CYCLIC_ARRAY, 'payload[1].list', /cycle/],
    ['NaN', { x: Number.NaN }, 'payload.x', /finite/],
    ['Infinity', { x: [Number.POSITIVE_INFINITY] }, 'payload.x[0]', /finite/],
    ['-Infinity', Number.NEGATIVE_INFINITY, 'payload', /finite/],
    ['a Date', { at: new Date(0) }, 'payload.at', /Date/],
    ['a Map', { m: new Map([[1, 2]]) }, 'payload.m', /Map/],
    ['a Set', new Set([1]), 'payload', /Set/],
    ['a class instance', { job: new Job() }, 'payload.job', /Job/],
    ['a boxed string', { s: new String('x') }, 'payload.s', /String/],
    ['a typed array', { b: new Uint8Array(2) }, 'payload.b', /Uint8Array/],
    ['a lone high surrogate', { s: 'ab\uD800' }, 'payload.s', /well-formed/],
    ['a lone low surrogate', ['\uDC00x'], 'payload[0]', /well-formed/],
    ['a NUL character', { s: 'a\u0000b' }, 'payload.s', /NUL/],
    ['a symbol key', { [Symbol('k')]: 1 }, 'payload', /symbol/],
    ['a key that needs quoting', { 'a b': { c: undefined } }, 'payload["a b"].c', /undefined/],
  ]

  it.each(BAD)('refuses %s, naming the path', (_, payload, field, says) => {
    const err = validationError(() => validatePayload(payload, V))
    expect(err.code).toBe('VALIDATION')
    expect(err.field).toBe(field)
    expect(err.message).toContain(field)
    expect(err.message).toMatch(says)
    expect(err.allowed).toBeTypeOf('string')
  })

  it('abbreviates a long offending value in the message', () => {
    const err = validationError(() => validatePayload({ s: `${'x'.repeat(500)}\u0000` }, V))
    expect(err.message.length).toBeLessThan(300)
  })

  // Keys get the same string check as values: Postgres jsonb cannot store a NUL or a lone
  // surrogate in either ("unsupported Unicode escape sequence").
  it.each([
    ['a key with a NUL character', withKey('a\u0000b', 1)],
    ['a key with a lone surrogate', withKey('k\uD800', 1)],
  ])('refuses %s (Postgres jsonb cannot store it)', (_, payload) => {
    validationError(() => validatePayload(payload, V))
  })
})

describe('validatePayload: limits', () => {
  it('allows 32 levels of nesting and refuses 33', () => {
    expect(() => validatePayload(nest(32), V)).not.toThrow()
    const err = validationError(() => validatePayload(nest(33), V))
    expect(err.message).toMatch(/deeper than 32/)
    expect(err.field).toBe(`payload${'[0]'.repeat(32)}`)
  })

  it('counts object nesting as well as arrays', () => {
    let deep: unknown = 'leaf'
    for (let i = 0; i < 33; i++) deep = { d: deep }
    expect(validationError(() => validatePayload(deep, V)).field).toMatch(/^payload(\.d){32}$/)
  })

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %s at the root', (key) => {
    const err = validationError(() => validatePayload(withKey(key, 1), V))
    expect(err.message).toContain(key)
    expect(err.message).toMatch(/forbidden/)
  })

  it('refuses forbidden keys at any level, naming the path', () => {
    const parsed = JSON.parse('{"a":[{"b":{"__proto__":{"polluted":true}}}]}')
    expect(validationError(() => validatePayload(parsed, V)).field).toBe('payload.a[0].b.__proto__')
    expect(validationError(() => validatePayload([[{ x: { prototype: 1 } }]], V)).field).toBe(
      'payload[0][0].x.prototype',
    )
    expect(validationError(() => validatePayload({ deep: { constructor: 'x' } }, V)).field).toBe(
      'payload.deep.constructor',
    )
  })

  it('allows exactly 1 MiB serialised and refuses one byte more', () => {
    expect(() => validatePayload('x'.repeat(MiB - 2), V)).not.toThrow()
    const err = validationError(() => validatePayload('x'.repeat(MiB - 1), V))
    expect(err.field).toBe('payload')
    expect(err.message).toContain(`${MiB + 1} bytes`)
    expect(err.message).toContain(`${MiB} bytes`)
  })

  it('measures the size in UTF-8 bytes, not characters', () => {
    // 'é' is 2 bytes: 524 288 of them are 1 048 576 bytes + 2 quotes, over the limit
    expect(() => validatePayload('é'.repeat(MiB / 2 - 1), V)).not.toThrow()
    expect(validationError(() => validatePayload('é'.repeat(MiB / 2), V)).message).toContain(
      `${MiB + 2} bytes`,
    )
  })

  it('puts the batch index in the message and the field', () => {
    const err = validationError(() => validatePayload({ a: undefined }, V, 3))
    expect(err.message).toMatch(/index 3/)
    expect(err.field).toBe('[3].payload.a')
    const big = validationError(() => validatePayload('x'.repeat(MiB), V, 7))
    expect(big.message).toMatch(/index 7/)
    expect(big.field).toBe('[7].payload')
    const deep = validationError(() => validatePayload(nest(40), V, 0))
    expect(deep.message).toMatch(/index 0/)
  })

  it('uses custom limits from the config', () => {
    const custom = resolveConfig({
      validation: { maxDepth: 2, maxPayloadBytes: 20, forbiddenKeys: ['password'] },
    }).validation
    expect(() => validatePayload({ a: [1] }, custom)).not.toThrow()
    expect(validationError(() => validatePayload({ a: [[1]] }, custom)).message).toMatch(
      /deeper than 2/,
    )
    expect(validationError(() => validatePayload({ x: { password: 'p' } }, custom)).field).toBe(
      'payload.x.password',
    )
    expect(() => validatePayload({ constructor: 1 }, custom)).not.toThrow()
    expect(validationError(() => validatePayload('x'.repeat(19), custom)).message).toMatch(
      /20 bytes/,
    )
  })

  it('validation: false skips size, depth and forbidden keys', () => {
    expect(() => validatePayload(nest(200), false)).not.toThrow()
    expect(validatePayload(withKey('__proto__', 1), false)).toBe('{"__proto__":1}')
    expect(validatePayload({ constructor: { prototype: 1 } }, false)).toBe(
      '{"constructor":{"prototype":1}}',
    )
    expect(validatePayload('x'.repeat(2 * MiB), false)).toHaveLength(2 * MiB + 2)
  })

  it('validation: false still refuses what is not JSON', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const bad of [undefined, { n: 1n }, cyclic, Number.NaN, new Date(), 'a\u0000', () => 1]) {
      validationError(() => validatePayload(bad, false))
    }
  })
})

describe('validateName', () => {
  it.each(['a', 'Z', '9', 'tasks', 'emails.high-priority', 'tenant:42_jobs', 'a'.repeat(128)])(
    'accepts the queue name %s',
    (name) => {
      expect(validateName('queue', name)).toBe(name)
      expect(validateName('workflow', name)).toBe(name)
    },
  )

  it.each([
    ['empty', ''],
    ['a leading dash', '-jobs'],
    ['a leading dot', '.jobs'],
    ['a leading underscore', '_jobs'],
    ['a space', 'my jobs'],
    ['a slash', 'a/b'],
    ['a quote', "o'neil"],
    ['non-ASCII', 'café'],
    ['a newline', 'jobs\n'],
    ['129 characters', 'a'.repeat(129)],
  ])('refuses a queue name with %s, quoting the pattern', (_, name) => {
    const err = validationError(() => validateName('queue', name))
    expect(err.message).toContain(NAME_PATTERN.source)
    expect(err.message).toContain('queue name')
    expect(err.field).toBe('queue name')
    expect(err.value).toBe(name)
  })

  it('refuses a name that is not a string', () => {
    for (const bad of [42, null, undefined, ['a'], { name: 'a' }]) {
      expect(validationError(() => validateName('workflow', bad)).field).toBe('workflow name')
    }
  })

  it('uses the pattern of the spec', () => {
    expect(NAME_PATTERN.source).toBe('^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$')
  })

  it('accepts worker and step names of up to 255 characters that are not only white space', () => {
    expect(validateName('worker', 'host-1 worker #3')).toBe('host-1 worker #3')
    expect(validateName('step', 's'.repeat(255))).toHaveLength(255)
    for (const bad of ['', '   ', '\t\n', 's'.repeat(256), 7]) {
      expect(validationError(() => validateName('step', bad)).message).toMatch(/1-255/)
    }
  })
})

describe('validateInt and validateDate', () => {
  it('returns an integer within the range', () => {
    expect(validateInt('batchSize', 1, 1, MAX_BATCH_SIZE)).toBe(1)
    expect(validateInt('batchSize', MAX_BATCH_SIZE, 1, MAX_BATCH_SIZE)).toBe(MAX_BATCH_SIZE)
    expect(validateInt('delayMs', 0, 0)).toBe(0)
    expect(validateInt('delayMs', Number.MAX_SAFE_INTEGER, 0)).toBe(Number.MAX_SAFE_INTEGER)
  })

  it.each([
    [0, /from 1 to 1000/],
    [1001, /from 1 to 1000/],
    [1.5, /integer/],
    [Number.NaN, /integer/],
    [Number.POSITIVE_INFINITY, /integer/],
    ['10', /integer/],
    [null, /integer/],
  ])('refuses batchSize %s with a ValidationError', (value, says) => {
    const err = validationError(() => validateInt('batchSize', value, 1, MAX_BATCH_SIZE))
    expect(err.field).toBe('batchSize')
    expect(err.message).toContain('batchSize')
    expect(err.message).toMatch(says)
  })

  it('describes an open range as ">= min"', () => {
    expect(validationError(() => validateInt('delayMs', -1, 0)).message).toContain('>= 0')
  })

  it('exposes the batch limits', () => {
    expect(MAX_BATCH_SIZE).toBe(1000)
    expect(MAX_ENQUEUE_BATCH).toBe(10_000)
  })

  it('accepts a valid Date and refuses anything else', () => {
    const d = new Date()
    expect(validateDate('runAt', d)).toBe(d)
    for (const bad of [new Date('not a date'), '2026-01-01', 0, null]) {
      expect(validationError(() => validateDate('runAt', bad)).field).toBe('runAt')
    }
  })
})

describe('worker and step names refuse what would not round-trip', () => {
  it.each([
    ['worker', 'w\u0000x'],
    ['worker', 'w\uD800'],
    ['step', 's\uDC00'],
    ['step', 'a\u0000'],
  ] as const)('%s name %j → ValidationError (no NUL, no lone surrogate)', (kind, name) => {
    expect(() => validateName(kind, name)).toThrow(ValidationError)
    expect(() => validateName(kind, name)).toThrow(/well-formed Unicode/)
  })
  it('accepts well-formed names with emoji and punctuation', () => {
    expect(validateName('step', 'fetch 🎉 #2')).toBe('fetch 🎉 #2')
    expect(validateName('worker', 'host:8080')).toBe('host:8080')
  })
})
