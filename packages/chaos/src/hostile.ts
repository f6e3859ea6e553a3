/**
 * Hostile input: arbitraries (fast-check) for payloads, names, keys, DSNs and options, SQL-injection
 * strings, and the stored-state snapshot every case is checked against.
 */
import { NAME_PATTERN, PgqrsError } from '@pgqrs/core'
import fc from 'fast-check'

/** Classic and not-so-classic injection attempts; each is tried in every string parameter. */
export const INJECTIONS: readonly string[] = [
  "'; drop table pgqrs_messages; --",
  "x'); delete from pgqrs_queues; --",
  "' or '1'='1",
  '" ; drop schema public cascade; --',
  "'); insert into chaos_canary values (666); --",
  "\\'; truncate chaos_canary; --",
  '$$; drop table chaos_canary; $$',
  '$1; select pg_sleep(5); --',
  '?; delete from pgqrs_archive; --',
  ':name; delete from pgqrs_runs',
  '%s%s%s%n',
  '*/ drop table chaos_canary; /*',
  "E'\\x27'; drop table chaos_canary; --",
  '`; drop table chaos_canary; `',
  "');ATTACH DATABASE '/tmp/chaos-pwned.db' AS pwned;--",
  "'||(select name from sqlite_master limit 1)||'",
  'chaos_canary"; drop table "chaos_canary',
  'pgqrs\u2019; drop table chaos_canary; --',
  "1; update pgqrs_steps set status = 'SUCCESS'",
  "'; copy chaos_canary to program 'touch /tmp/chaos-pwned'; --",
  'ok:name.with-allowed_chars',
  "x'::jsonb; drop table chaos_canary; --",
  '{"__proto__": {"polluted": true}}',
  "\\\\'; drop table chaos_canary; --",
]

/** Strings that break naive code: NUL, lone surrogates, RTL marks, huge, control characters. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\uD800',
    '\uDFFF',
    'x\uD83D',
    '\uDE00y',
    '\u202Eevil',
    '\uFEFF',
    '\r\n\t\v\f\b',
    'null',
    'undefined',
    '__proto__',
    'constructor',
    'prototype',
    '\u{1F600}\u{1F4A9}',
    'é'.normalize('NFD'),
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.oneof(
      fc.constantFrom(
        '\u0000',
        '\uD800',
        '\uDBFF',
        '\uDC00',
        '\uDFFF',
        "'",
        '"',
        '\\',
        ';',
        '-',
        '$',
      ),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 30,
  }),
  fc.string({ maxLength: 40 }),
)

/** Names that match the name pattern (including the longest allowed) and names that almost do. */
export const nameLike: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(NAME_PATTERN),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{120,130}$/),
  fc.stringMatching(/^[_.:-][A-Za-z0-9_.:-]{0,10}$/),
  nastyString,
)

/** Objects whose keys are `__proto__` / `constructor` / `prototype` (own keys, as JSON.parse makes them). */
const forbiddenKeyObject: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.constantFrom('__proto__', 'constructor', 'prototype'),
    fc.jsonValue({ maxDepth: 2 }),
    fc.integer({ min: 0, max: 3 }),
  )
  .map(([key, value, depth]) => {
    let text = `{${JSON.stringify(key)}: ${JSON.stringify(value)}}`
    for (let i = 0; i < depth; i++) text = `{"a": [${text}]}`
    return JSON.parse(text) as unknown
  })

/** Nesting from 1 to 60 levels (the default limit is 32). */
const deep: fc.Arbitrary<unknown> = fc
  .tuple(fc.integer({ min: 1, max: 60 }), fc.boolean(), fc.jsonValue({ maxDepth: 0 }))
  .map(([depth, arrays, leaf]) => {
    let v: unknown = leaf
    for (let i = 0; i < depth; i++) v = arrays ? [v] : { k: v }
    return v
  })

/** Payloads around the 1 MiB limit (rarely chosen: they are slow). */
const huge: fc.Arbitrary<unknown> = fc
  .constantFrom(1_048_576 - 2, 1_048_576 - 1, 1_048_576, 1_048_577, 2_000_000)
  .map((n) => 'x'.repeat(n - 2)) // JSON adds the 2 quotes

/** Values that are not JSON and must be refused. */
const notJson: fc.Arbitrary<unknown> = fc
  .constantFrom<() => unknown>(
    () => undefined,
    () => Number.NaN,
    () => Number.POSITIVE_INFINITY,
    () => 10n,
    () => () => 1,
    () => Symbol('s'),
    () => new Date(0),
    () => new Map([[1, 2]]),
    () => [1, undefined],
    () => ({ a: undefined }),
    () => {
      const a: unknown[] = []
      a[3] = 1
      return a
    },
    () => {
      const o: Record<string, unknown> = { x: 1 }
      o.self = o
      return o
    },
    () => ({ [Symbol('k')]: 1 }),
    () =>
      new (class Point {
        x = 1
      })(),
    () => {
      const o = Object.create(null) as Record<string, unknown>
      o.plain = 'null-prototype objects are fine'
      return o
    },
  )
  .map((f) => f())

export const payloadArb: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 5 }), weight: 6 },
  { arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }), weight: 3 },
  { arbitrary: nastyString, weight: 3 },
  {
    arbitrary: fc.dictionary(nastyString, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }),
    weight: 2,
  },
  { arbitrary: forbiddenKeyObject, weight: 2 },
  { arbitrary: deep, weight: 2 },
  { arbitrary: notJson, weight: 2 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: huge, weight: 1 },
)

/** What a payload must come back as: its JSON round trip. */
export function jsonNormalised(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown
}

/** A thrown value must be a pgqrs error with one of `codes`; returns its code. */
export function typedCode(e: unknown, codes: readonly string[], what: string): string {
  if (!PgqrsError.is(e)) {
    throw new Error(
      `${what}: expected a typed pgqrs error (${codes.join(' / ')}), got ${(e as Error)?.name}: ${(e as Error)?.message}`,
      { cause: e },
    )
  }
  if (!codes.includes(e.code)) {
    throw new Error(
      `${what}: expected ${codes.join(' / ')}, got ${e.name} (${e.code}): ${e.message}`,
      {
        cause: e,
      },
    )
  }
  return e.code
}

/** Shows a value briefly (for counterexamples). */
export function show(v: unknown): string {
  let s: string
  try {
    s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? typeof v
  } catch {
    s = `[${typeof v}]`
  }
  return s.length > 120 ? `${s.slice(0, 117)}...` : s
}
