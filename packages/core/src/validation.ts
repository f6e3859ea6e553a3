import type { ResolvedConfig } from './config.js'
import { ValidationError } from './errors.js'

/** Queue and workflow names: 1-128 characters, starting with a letter or digit. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/
/** The largest `batchSize` of one dequeue. */
export const MAX_BATCH_SIZE = 1000
/** The largest number of messages in one enqueue. */
export const MAX_ENQUEUE_BATCH = 10_000
/** The largest total of serialised payload bytes (UTF-8) in one enqueue call. */
export const MAX_ENQUEUE_BYTES = 32 * 1024 * 1024
/**
 * Names of the worker rows pgqrs registers for unnamed workers, producers and consumers start
 * with this prefix; a name given by the application may not (a `ValidationError`). Stopped rows
 * of anonymous workers are removed after {@link ANONYMOUS_WORKER_RETENTION_MS}.
 */
export const ANONYMOUS_WORKER_PREFIX = 'anon:'
/** How long a stopped anonymous worker's row is kept (1 day); named rows are reused instead. */
export const ANONYMOUS_WORKER_RETENTION_MS = 86_400_000
/** Items a paged list returns when no `limit` is given. */
export const DEFAULT_PAGE_LIMIT = 100
/** The largest `limit` of a paged list. */
export const MAX_PAGE_LIMIT = 1000

function show(value: unknown): string {
  try {
    const s = typeof value === 'string' ? JSON.stringify(value) : String(value)
    return s.length > 60 ? `${s.slice(0, 57)}...` : s
  } catch {
    return typeof value
  }
}

/** Throws `ValidationError` unless `name` matches {@link NAME_PATTERN}. */
export function validateName(
  kind: 'queue' | 'workflow' | 'worker' | 'step' | 'schedule',
  name: unknown,
): string {
  if (kind === 'worker' || kind === 'step') {
    if (!isText(name, 1, 255, true)) {
      throw new ValidationError(
        `${kind} name`,
        name,
        '1-255 characters of well-formed Unicode, no NUL, not only white space',
        `Invalid ${kind} name ${show(name)}: use 1-255 characters of well-formed Unicode (no NUL, no lone surrogates), not only white space`,
      )
    }
    return name
  }
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new ValidationError(
      `${kind} name`,
      name,
      `1-128 characters matching ${NAME_PATTERN.source}`,
      `Invalid ${kind} name ${show(name)}: use 1-128 characters from [A-Za-z0-9_.:-], starting with a letter or digit (pattern ${NAME_PATTERN.source})`,
    )
  }
  return name
}

/**
 * The one free-text rule (names of workers, steps and events, idempotency keys, hostnames): a
 * string of `min`–`max` UTF-16 units, well-formed (a lone surrogate would be stored as U+FFFD),
 * no NUL (Postgres text refuses it), and with `notBlank` not only white space.
 */
function isText(value: unknown, min: number, max: number, notBlank: boolean): value is string {
  return (
    typeof value === 'string' &&
    value.length >= min &&
    value.length <= max &&
    (!notBlank || value.trim() !== '') &&
    !value.includes('\u0000') &&
    value.isWellFormed()
  )
}

/**
 * Throws `ValidationError` unless `value` is a string of at most `maxChars` characters of
 * well-formed Unicode without NUL (what every store keeps exactly and every output prints back).
 */
export function validateText(field: string, value: unknown, maxChars: number): string {
  if (!isText(value, 0, maxChars, false)) {
    throw new ValidationError(
      field,
      value,
      `a string of at most ${maxChars} characters of well-formed Unicode, no NUL`,
    )
  }
  return value
}

/** Throws `ValidationError` unless `value` is an integer in `[min, max]`. */
export function validateInt(
  field: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
    throw new ValidationError(
      field,
      value,
      `an integer ${range}`,
      `Invalid ${field} ${show(value)}: use an integer ${range}`,
    )
  }
  return value
}

/** Throws `ValidationError` unless `value` is a valid `Date`. */
export function validateDate(field: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ValidationError(
      field,
      value,
      'a valid Date',
      `Invalid ${field} ${show(value)}: use a valid Date`,
    )
  }
  return value
}

function pathOf(path: readonly (string | number)[]): string {
  let out = 'payload'
  for (const p of path) {
    out +=
      typeof p === 'number'
        ? `[${p}]`
        : /^[A-Za-z_$][\w$]*$/.test(p)
          ? `.${p}`
          : `[${JSON.stringify(p)}]`
  }
  return out
}

/**
 * Checks that `payload` round-trips through JSON exactly: plain objects, arrays, strings (well
 * formed, no NUL), finite numbers, booleans and null only; no cycles; not deeper than `maxDepth`;
 * no forbidden key; serialised size at most `maxPayloadBytes`. Returns the JSON text.
 * Throws `ValidationError` naming the path (prefixed by the batch index when given).
 */
export function validatePayload(
  payload: unknown,
  validation: ResolvedConfig['validation'],
  index?: number,
  options: { undefinedProperties?: 'reject' | 'drop' } = {},
): string {
  const dropUndefined = options.undefinedProperties === 'drop'
  const where = index === undefined ? '' : `Payload at index ${index}: `
  const fail = (path: (string | number)[], value: unknown, allowed: string): never => {
    const field = pathOf(path)
    throw new ValidationError(
      index === undefined ? field : `[${index}].${field}`,
      value,
      allowed,
      `${where}invalid ${field} (${show(value)}): ${allowed}`,
    )
  }
  const maxDepth = validation ? validation.maxDepth : Number.POSITIVE_INFINITY
  const forbidden = new Set(validation ? validation.forbiddenKeys : [])
  const seen = new Set<object>()
  const walk = (value: unknown, path: (string | number)[], depth: number): void => {
    switch (typeof value) {
      case 'string':
        if (value.includes('\u0000') || !value.isWellFormed()) {
          fail(path, value, 'strings must be well-formed Unicode without NUL (\\u0000) characters')
        }
        return
      case 'number':
        if (!Number.isFinite(value))
          fail(path, value, 'numbers must be finite (NaN and Infinity are not JSON)')
        return
      case 'boolean':
        return
      case 'undefined':
        fail(path, value, 'undefined is not JSON; use null or leave the key out')
        return
      case 'bigint':
        fail(path, value, 'BigInt is not JSON; use a number or a string')
        return
      case 'function':
      case 'symbol':
        fail(path, value, `a ${typeof value} is not JSON`)
        return
    }
    if (value === null) return
    const obj = value as object
    if (seen.has(obj)) fail(path, '[Circular]', 'cycles cannot be serialised')
    if (depth >= maxDepth)
      fail(path, '[object]', `nesting deeper than ${maxDepth} levels is not allowed`)
    seen.add(obj)
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) walk(obj[i], [...path, i], depth + 1)
    } else {
      const proto = Object.getPrototypeOf(obj)
      if (proto !== Object.prototype && proto !== null) {
        const kind = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object'
        fail(
          path,
          `[${kind}]`,
          `a ${kind} instance does not round-trip through JSON; use plain objects and arrays`,
        )
      }
      for (const key of Object.keys(obj)) {
        if (forbidden.has(key)) fail([...path, key], key, `the key "${key}" is forbidden`)
        if (key.includes('\u0000') || !key.isWellFormed()) {
          fail(
            [...path, key],
            key,
            'keys must be well-formed Unicode without NUL (\\u0000) characters',
          )
        }
        const child = (obj as Record<string, unknown>)[key]
        // Step outputs may have optional fields left undefined: JSON drops them, as JSON.stringify does.
        if (child === undefined && dropUndefined) continue
        walk(child, [...path, key], depth + 1)
      }
      if (Object.getOwnPropertySymbols(obj).length > 0)
        fail(path, '[symbol keys]', 'symbol keys are not JSON')
    }
    seen.delete(obj)
  }
  walk(payload, [], 0)
  const text = JSON.stringify(payload)
  if (validation) {
    const bytes = Buffer.byteLength(text, 'utf8')
    if (bytes > validation.maxPayloadBytes) {
      throw new ValidationError(
        index === undefined ? 'payload' : `[${index}].payload`,
        `${bytes} bytes`,
        `at most ${validation.maxPayloadBytes} bytes`,
        `${where}payload is ${bytes} bytes serialised; at most ${validation.maxPayloadBytes} bytes are allowed`,
      )
    }
  }
  return text
}

/** Marker appended to text that {@link storableText} shortened. */
export const TRUNCATION_MARKER = '… [truncated by pgqrs]'

/**
 * Any text made storable in every backend: NUL characters removed (Postgres text refuses them),
 * lone surrogates replaced by U+FFFD, and text over `maxChars` cut with {@link TRUNCATION_MARKER}.
 * Used for error messages and stacks, which come from anywhere and must never fail a write.
 */
export function storableText(text: string, maxChars = 10_000): string {
  let out = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text
  if (!out.isWellFormed()) out = out.toWellFormed()
  if (out.length > maxChars) {
    // never cut a surrogate pair in half
    let end = maxChars - TRUNCATION_MARKER.length
    const code = out.charCodeAt(end - 1)
    if (code >= 0xd800 && code <= 0xdbff) end--
    out = out.slice(0, end) + TRUNCATION_MARKER
  }
  return out
}

/**
 * The longest delay pgqrs stores (`delayMs`, `olderThanMs`, stale thresholds, sleeps), in ms:
 * about 285 years, so that "now + delay" is a valid instant on every backend (a JavaScript Date,
 * a Postgres timestamptz, an SQLite integer).
 */
export const MAX_DELAY_MS = 9_000_000_000_000

/** The earliest and latest instants a `runAt` may name: 1970-01-01 to 9999-12-31, on every backend. */
export const RUN_AT_RANGE = Object.freeze({
  min: new Date(0),
  max: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)),
})

/** Throws `ValidationError` unless `value` is a valid `Date` within {@link RUN_AT_RANGE}. */
export function validateInstant(field: string, value: unknown): Date {
  const date = validateDate(field, value)
  if (date < RUN_AT_RANGE.min || date > RUN_AT_RANGE.max) {
    throw new ValidationError(
      field,
      value,
      'a Date from 1970-01-01 to 9999-12-31',
      `Invalid ${field} ${date.toISOString()}: use a Date from 1970-01-01 to 9999-12-31`,
    )
  }
  return date
}

/**
 * An event name (`sendEvent`, `waitForEvent`) or a published value's key (`setEvent`,
 * `getEvent`): 1-200 characters of well-formed Unicode, no NUL, not only white space
 * (`ValidationError` otherwise). `kind` names it in the error.
 */
export function validateEventName(name: unknown, kind: 'event' | 'value key' = 'event'): string {
  if (!isText(name, 1, 200, true)) {
    throw new ValidationError(
      `${kind} name`,
      name,
      '1-200 characters of well-formed Unicode, no NUL, not only white space',
    )
  }
  return name
}

/**
 * An idempotency key: null/undefined (none) or 1-512 characters of well-formed Unicode without
 * NUL (a lone surrogate would be stored as U+FFFD and collide with another key).
 */
export function validateIdempotencyKey(key: unknown): string | null {
  if (key === undefined || key === null) return null
  if (!isText(key, 1, 512, false)) {
    throw new ValidationError(
      'idempotencyKey',
      key,
      'a string of 1-512 characters of well-formed Unicode without NUL',
    )
  }
  return key
}

/**
 * The queue of version `version` of workflow `workflow`: the workflow's own queue for version 1,
 * `<workflow>:v<N>` for N > 1, so that only workers that register version N claim its runs.
 * `ValidationError` for a version that is not an integer from 1 to 1 000 000, or a name too long
 * for the suffix.
 */
export function workflowQueue(workflow: string, version = 1): string {
  validateName('workflow', workflow)
  validateInt('version', version, 1, 1_000_000)
  if (version === 1) return workflow
  return validateName('queue', `${workflow}:v${version}`)
}

/**
 * Validates the options of a paged list ({@link PageOptions}): `limit` an integer from 1 to
 * {@link MAX_PAGE_LIMIT} (default {@link DEFAULT_PAGE_LIMIT}); `after` a name (`'name'` cursors)
 * or a positive integer id (`'id'` cursors). Throws `ValidationError` naming the field.
 */
export function validatePage<C extends string | number>(
  options: { readonly limit?: number; readonly after?: C } | undefined,
  cursor: 'name' | 'id',
): { limit: number; after: C | undefined } {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new ValidationError('options', options, 'an object with limit and after')
  }
  const limit = validateInt('limit', options?.limit ?? DEFAULT_PAGE_LIMIT, 1, MAX_PAGE_LIMIT)
  const after = options?.after
  if (after === undefined) return { limit, after: undefined }
  if (cursor === 'id') return { limit, after: validateInt('after', after, 0) as C }
  if (
    typeof after !== 'string' ||
    after.length > 255 ||
    !after.isWellFormed() ||
    after.includes('\u0000')
  ) {
    throw new ValidationError(
      'after',
      after,
      'the name of the last item of the previous page (a string of at most 255 characters)',
    )
  }
  return { limit, after: after as C }
}

/**
 * Reads every page of a paged list, `pageSize` items per call, and returns all items: for callers
 * that need the whole set (and know it is small). `cursorOf` gives an item's cursor.
 *
 * @example
 * ```ts
 * const queues = await listAll((page) => store.queues.list(page), (q) => q.name)
 * ```
 */
export async function listAll<T, C extends string | number>(
  // the cursor type C is inferred from cursorOf, not from here
  list: (page: { limit: number; after?: any }) => Promise<T[]>,
  cursorOf: (item: T) => C,
  pageSize = MAX_PAGE_LIMIT,
): Promise<T[]> {
  const out: T[] = []
  let after: C | undefined
  for (;;) {
    const page = await list(after === undefined ? { limit: pageSize } : { limit: pageSize, after })
    out.push(...page)
    if (page.length < pageSize) return out
    after = cursorOf(page[page.length - 1] as T)
  }
}

/** The most entries of a message's headers. */
export const MAX_HEADERS = 32
/** The largest serialised size of a message's headers, in UTF-16 units. */
export const MAX_HEADERS_CHARS = 8192

/**
 * Throws `ValidationError` unless `headers` is a plain object of at most {@link MAX_HEADERS}
 * string keys (1-256 characters) with string values, well-formed and without NUL, at most
 * {@link MAX_HEADERS_CHARS} characters serialised. Returns it.
 */
export function validateHeaders(
  headers: unknown,
  field = 'headers',
): Readonly<Record<string, string>> {
  const allowed = `a plain object of at most ${MAX_HEADERS} string keys (1-256 characters) and string values, well-formed Unicode without NUL, at most ${MAX_HEADERS_CHARS} characters in all`
  const bad = (detail: string): never => {
    throw new ValidationError(
      field,
      headers,
      allowed,
      `Invalid ${field}: ${detail}; use ${allowed}`,
    )
  }
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    bad('not an object')
  const proto = Object.getPrototypeOf(headers)
  if (proto !== Object.prototype && proto !== null) bad('not a plain object')
  const entries = Object.entries(headers as Record<string, unknown>)
  if (entries.length > MAX_HEADERS) bad(`${entries.length} entries`)
  let chars = 0
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > 256 || k.includes('\u0000') || !k.isWellFormed())
      bad(`the key ${show(k)}`)
    if (typeof v !== 'string' || v.includes('\u0000') || !v.isWellFormed())
      bad(`the value of ${show(k)}`)
    chars += k.length + (v as string).length
  }
  if (chars > MAX_HEADERS_CHARS) bad(`${chars} characters`)
  return headers as Readonly<Record<string, string>>
}
