import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_VALIDATION,
  NAME_PATTERN,
  resolveConfig,
  validateName,
  validatePayload,
  ValidationError,
} from '../src/index.js'

const V = DEFAULT_VALIDATION

/** JSON cannot tell -0 from 0: the round trip of -0 is 0. Rebuilds plain containers, maps -0 to 0. */
function normalize(value: unknown): unknown {
  if (Object.is(value, -0)) return 0
  if (Array.isArray(value)) return value.map(normalize)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      // defineProperty, so that an own "__proto__" key stays a key
      Object.defineProperty(out, key, {
        value: normalize((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return out
  }
  return value
}

/** The property every input must satisfy: an exact JSON round trip, or a ValidationError. */
function roundTripsOrRefuses(
  value: unknown,
  validation: Parameters<typeof validatePayload>[1],
): 'ok' | 'refused' {
  let text: string
  try {
    text = validatePayload(value, validation)
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err
    expect(err.code).toBe('VALIDATION')
    expect(err.field.startsWith('payload')).toBe(true)
    return 'refused'
  }
  expect(typeof text).toBe('string')
  expect(JSON.parse(text)).toEqual(normalize(value))
  if (validation)
    expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(validation.maxPayloadBytes)
  return 'ok'
}

/** A single code unit or code point, including the troublemakers: NUL and lone surrogates. */
const nastyUnit = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF') },
)

const FORBIDDEN = ['__proto__', 'constructor', 'prototype'] as const

function hasBadString(s: string): boolean {
  return s.includes('\u0000') || !s.isWellFormed()
}

/** Nesting depth as validatePayload counts it: a scalar is 0, `[]` and `{}` are 1. */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0
  const children = Array.isArray(v) ? v : Object.values(v)
  return 1 + Math.max(0, ...children.map(depthOf))
}

/** Independent oracle of SPEC section 9 for JSON values (keys are ASCII in the generator below). */
function shouldAccept(v: unknown, limits: { maxDepth: number; maxPayloadBytes: number }): boolean {
  const bad = (x: unknown): boolean => {
    if (typeof x === 'string') return hasBadString(x)
    if (x === null || typeof x !== 'object') return false
    if (Array.isArray(x)) return x.some(bad)
    return Object.entries(x).some(
      ([k, val]) => (FORBIDDEN as readonly string[]).includes(k) || bad(val),
    )
  }
  if (bad(v) || depthOf(v) > limits.maxDepth) return false
  return Buffer.byteLength(JSON.stringify(v), 'utf8') <= limits.maxPayloadBytes
}

/** JSON values with ASCII keys (sometimes a forbidden one) and strings made of `nastyUnit`. */
const nastyJson = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ unit: nastyUnit, maxLength: 8 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .array(
        fc.tuple(
          fc.oneof(
            { weight: 9, arbitrary: fc.string({ maxLength: 6 }) },
            fc.constantFrom(...FORBIDDEN),
          ),
          tie('value'),
        ),
        { maxLength: 4 },
      )
      .map((entries) => {
        const o: Record<string, unknown> = {}
        for (const [k, v] of entries) {
          Object.defineProperty(o, k, {
            value: v,
            enumerable: true,
            writable: true,
            configurable: true,
          })
        }
        return o
      }),
  ),
})).value

describe('validatePayload properties (fast-check)', () => {
  it('any fc.jsonValue() round-trips exactly or throws ValidationError, never another error', () => {
    let ok = 0
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        if (roundTripsOrRefuses(v, V) === 'ok') ok++
      }),
      { numRuns: 500 },
    )
    // the generator is JSON: nearly everything must be accepted
    expect(ok).toBeGreaterThan(450)
  })

  it('the same holds for deep values with arbitrary Unicode, and with validation off', () => {
    const outcomes = { ok: 0, refused: 0 }
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 40, stringUnit: nastyUnit }), (v) => {
        outcomes[roundTripsOrRefuses(v, V)]++
        roundTripsOrRefuses(v, false)
      }),
      { numRuns: 300 },
    )
    expect(outcomes.ok).toBeGreaterThan(0)
    expect(outcomes.refused).toBeGreaterThan(0)
  })

  it('anything JavaScript can hold (Map, Date, BigInt, sparse arrays, …) round-trips or is refused', () => {
    const outcomes = { ok: 0, refused: 0 }
    const anything = fc.anything({
      maxDepth: 4,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    })
    fc.assert(
      fc.property(anything, (v) => {
        outcomes[roundTripsOrRefuses(v, V)]++
      }),
      { numRuns: 500 },
    )
    expect(outcomes.ok).toBeGreaterThan(0)
    expect(outcomes.refused).toBeGreaterThan(0)
  })

  it('accepts exactly what SPEC section 9 allows, for random limits', () => {
    fc.assert(
      fc.property(
        nastyJson,
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 2, max: 300 }),
        (v, maxDepth, maxPayloadBytes) => {
          const validation = resolveConfig({ validation: { maxDepth, maxPayloadBytes } }).validation
          const expected = shouldAccept(v, { maxDepth, maxPayloadBytes }) ? 'ok' : 'refused'
          expect(roundTripsOrRefuses(v, validation)).toBe(expected)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('a forbidden key anywhere is refused, and the error names its path', () => {
    const step = fc.oneof(fc.constant<number>(0), fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/))
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 12 }),
        fc.constantFrom(...FORBIDDEN),
        fc.jsonValue({ maxDepth: 2 }),
        (path, key, inner) => {
          let payload: unknown = Object.defineProperty({}, key, { value: inner, enumerable: true })
          for (const s of [...path].reverse())
            payload = typeof s === 'number' ? [payload] : { [s]: payload }
          let err: unknown
          try {
            validatePayload(payload, V)
          } catch (e) {
            err = e
          }
          expect(err).toBeInstanceOf(ValidationError)
          const expectedPath = `payload${path.map((s) => (typeof s === 'number' ? '[0]' : `.${s}`)).join('')}.${key}`
          expect((err as ValidationError).field).toBe(expectedPath)
        },
      ),
    )
  })

  it('an invalid item of a batch is reported with its index', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 10_000 }),
        fc.constantFrom<unknown>(undefined, 1n, Number.NaN, new Date(0), 'x\u0000', () => 0),
        (index, bad) => {
          try {
            validatePayload({ item: bad }, V, index)
            expect.unreachable()
          } catch (err) {
            expect(err).toBeInstanceOf(ValidationError)
            expect((err as ValidationError).message).toContain(`index ${index}`)
            expect((err as ValidationError).field).toBe(`[${index}].payload.item`)
          }
        },
      ),
    )
  })
})

describe('validateName properties (fast-check)', () => {
  it('accepts every name the pattern allows', () => {
    fc.assert(
      fc.property(fc.stringMatching(NAME_PATTERN), (name) => {
        expect(validateName('queue', name)).toBe(name)
      }),
    )
  })

  it('accepts a random string exactly when it is 1-128 of [A-Za-z0-9_.:-] starting with a letter or digit', () => {
    const independent = (s: string) =>
      s.length >= 1 &&
      s.length <= 128 &&
      /[A-Za-z0-9]/.test(s[0]!) &&
      [...s].every((c) => /[A-Za-z0-9_.:-]/.test(c) && c.length === 1)
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 140 }),
          fc.string({
            unit: fc.constantFrom('a', 'Z', '0', '_', '.', ':', '-', ' ', '/'),
            maxLength: 140,
          }),
        ),
        (name) => {
          let accepted = true
          try {
            validateName('queue', name)
          } catch (err) {
            expect(err).toBeInstanceOf(ValidationError)
            accepted = false
          }
          expect(accepted).toBe(independent(name))
        },
      ),
      { numRuns: 500 },
    )
  })
})
