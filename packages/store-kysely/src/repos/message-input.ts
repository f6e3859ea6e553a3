import {
  type DequeueOptions,
  type EnqueueItem,
  type LeaseRef,
  MAX_BATCH_SIZE,
  MAX_ENQUEUE_BATCH,
  MAX_ENQUEUE_BYTES,
  type ResolvedConfig,
  ValidationError,
  validateInt,
  validatePayload,
  MAX_DELAY_MS,
  validateInstant,
  validateHeaders,
  type SettleOutcome,
} from '@pgqrs/core'
import type { Outcomes } from '../family.js'

/** An enqueue item after validation, with its payload already serialised. @internal */
export interface PreparedItem {
  readonly payloadText: string
  readonly priority: number
  readonly delayMs: number
  readonly runAt: Date | null
  readonly dedupeKey: string | null
  readonly maxAttempts: number
  /** The headers as JSON text, or null. */
  readonly headersText: string | null
  readonly timeoutMs: number | null
  /** The concurrency key, or null. */
  readonly concurrencyKey: string | null
}

const INT32 = 2_147_483_647

/**
 * Validates a whole batch before anything is written: one bad item rejects the batch, and the
 * error names its index and path. @internal
 */
export function prepareItems(
  items: readonly EnqueueItem[],
  config: ResolvedConfig,
): PreparedItem[] {
  if (!Array.isArray(items)) {
    throw new ValidationError('items', items, 'an array of { payload } items')
  }
  if (items.length > MAX_ENQUEUE_BATCH) {
    throw new ValidationError(
      'items',
      items.length,
      `at most ${MAX_ENQUEUE_BATCH} messages per enqueue`,
    )
  }
  const batch = items.length > 1
  let units = 0
  const prepared = items.map((item, i) => {
    const at = (f: string) => (batch ? `[${i}].${f}` : f)
    if (typeof item !== 'object' || item === null || !('payload' in item)) {
      throw new ValidationError(
        at('item'),
        item,
        'an object with a payload',
        `${batch ? `Payload at index ${i}: ` : ''}each item needs a payload`,
      )
    }
    const payloadText = validatePayload(item.payload, config.validation, batch ? i : undefined)
    units += payloadText.length
    const priority =
      item.priority === undefined ? 0 : validateInt(at('priority'), item.priority, -INT32, INT32)
    const delayMs =
      item.delayMs === undefined ? 0 : validateInt(at('delayMs'), item.delayMs, 0, MAX_DELAY_MS)
    const runAt =
      item.runAt === undefined || item.runAt === null
        ? null
        : validateInstant(at('runAt'), item.runAt)
    const maxAttempts =
      item.maxAttempts === undefined
        ? config.maxAttempts
        : validateInt(at('maxAttempts'), item.maxAttempts, 1, 1_000_000)
    let dedupeKey: string | null = null
    if (item.dedupeKey !== undefined && item.dedupeKey !== null) {
      if (
        typeof item.dedupeKey !== 'string' ||
        item.dedupeKey.length < 1 ||
        item.dedupeKey.length > 512 ||
        !item.dedupeKey.isWellFormed() ||
        item.dedupeKey.includes('\u0000')
      ) {
        throw new ValidationError(
          at('dedupeKey'),
          item.dedupeKey,
          'a string of 1-512 characters without NUL',
        )
      }
      dedupeKey = item.dedupeKey
    }
    const headersText =
      item.headers === undefined || item.headers === null
        ? null
        : JSON.stringify(validateHeaders(item.headers, at('headers')))
    const timeoutMs =
      item.timeoutMs === undefined || item.timeoutMs === null
        ? null
        : validateInt(at('timeoutMs'), item.timeoutMs, 1, INT32)
    let concurrencyKey: string | null = null
    if (item.concurrencyKey !== undefined && item.concurrencyKey !== null) {
      const k = item.concurrencyKey
      if (
        typeof k !== 'string' ||
        k.length < 1 ||
        k.length > 512 ||
        !k.isWellFormed() ||
        k.includes('\u0000')
      ) {
        throw new ValidationError(
          at('concurrencyKey'),
          k,
          'a string of 1-512 characters without NUL',
        )
      }
      concurrencyKey = k
    }
    return {
      payloadText,
      priority,
      delayMs,
      runAt,
      dedupeKey,
      maxAttempts,
      headersText,
      timeoutMs,
      concurrencyKey,
    }
  })
  // A UTF-16 unit is at most 3 bytes of UTF-8: only a batch that could be over the limit is measured.
  if (units * 3 > MAX_ENQUEUE_BYTES) {
    let bytes = 0
    for (const p of prepared) bytes += Buffer.byteLength(p.payloadText, 'utf8')
    if (bytes > MAX_ENQUEUE_BYTES) {
      throw new ValidationError(
        'items',
        `${bytes} bytes`,
        `at most ${MAX_ENQUEUE_BYTES} bytes of serialised payloads per enqueue (MAX_ENQUEUE_BYTES)`,
        `The enqueue holds ${bytes} bytes of serialised payloads in ${items.length} message(s); at most ${MAX_ENQUEUE_BYTES} bytes (MAX_ENQUEUE_BYTES) are allowed per call: split it into smaller enqueues`,
      )
    }
  }
  return prepared
}

/** Validates dequeue options. @internal */
export function checkDequeue(options: DequeueOptions): {
  batchSize: number
  leaseMs: number
  consumerId: number | null
} {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', options, 'an object with batchSize and leaseMs')
  }
  const batchSize = validateInt('batchSize', options.batchSize, 1, MAX_BATCH_SIZE)
  const leaseMs = validateInt('leaseMs', options.leaseMs, 1, 2_147_483_647)
  const consumerId =
    options.consumerId === undefined || options.consumerId === null
      ? null
      : validateInt('consumerId', options.consumerId, 1)
  return { batchSize, leaseMs, consumerId }
}

/**
 * Keeps the refs that can possibly match a current lease (a token of the family's shape and a
 * positive integer id), remembering their positions; any other token is simply "not current".
 * A ref that is no message at all (a bare id, say) is a `ValidationError`: a lease operation
 * needs the message as dequeued, with its lease token. @internal
 */
export function usableRefs(
  refs: readonly LeaseRef[],
  f: { isLeaseToken(token: string): boolean },
): { ids: number[]; leases: string[]; index: number[] } {
  if (!Array.isArray(refs))
    throw new ValidationError('refs', refs, 'an array of messages (or { id, lease })')
  const ids: number[] = []
  const leases: string[] = []
  const index: number[] = []
  const seen = new Set<number>()
  refs.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || !('lease' in r)) {
      throw new ValidationError(
        refs.length === 1 ? 'message' : `messages[${i}]`,
        r,
        'the message as dequeued (or { id, lease })',
        `Invalid message ${typeof r === 'number' ? `id ${r}` : `(${r === null ? 'null' : `a ${typeof r} without a lease`})`}: pass the message as dequeued (or { id, lease } with its lease token)${typeof r === 'number' ? ', not its id' : ''}: a lease operation applies only while that lease is current`,
      )
    }
    const { id, lease } = r
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1 || typeof lease !== 'string')
      return
    if (!f.isLeaseToken(lease)) return
    if (seen.has(id)) return
    seen.add(id)
    ids.push(id)
    leases.push(lease)
    index.push(i)
  })
  return { ids, leases, index }
}

/**
 * The outcomes of the usable refs (positions of `usable.index`), validated: a result must be JSON
 * as a payload is (`ValidationError` naming `outcomes[i].result`), a start time a valid instant.
 * Undefined when no ref has one. @internal
 */
export function prepareOutcomes(
  outcomes: readonly (SettleOutcome | undefined)[] | undefined,
  usable: { index: number[] },
  config: ResolvedConfig,
): Outcomes | undefined {
  if (outcomes === undefined || outcomes === null) return undefined
  if (!Array.isArray(outcomes))
    throw new ValidationError(
      'outcomes',
      outcomes,
      'an array of { result?, startedAt? } per message',
    )
  const results: (string | null)[] = []
  const started: (Date | null)[] = []
  let any = false
  for (const i of usable.index) {
    const o = outcomes[i]
    if (o === undefined || o === null) {
      results.push(null)
      started.push(null)
      continue
    }
    let text: string | null = null
    if (o.result !== undefined) {
      try {
        text = validatePayload(o.result, config.validation)
      } catch (e) {
        if (!ValidationError.is(e)) throw e
        throw new ValidationError(
          `outcomes[${i}].result`,
          e.value,
          e.allowed,
          `Invalid handler result of message ${i}: ${e.message}`,
        )
      }
    }
    const at =
      o.startedAt === undefined || o.startedAt === null
        ? null
        : validateInstant(`outcomes[${i}].startedAt`, o.startedAt)
    if (text !== null || at !== null) any = true
    results.push(text)
    started.push(at)
  }
  return any ? { results, started } : undefined
}

/** Positional booleans: true for refs whose id is in `done`. @internal */
export function positional(
  total: number,
  usable: { ids: number[]; index: number[] },
  done: Set<number>,
): boolean[] {
  const out = new Array<boolean>(total).fill(false)
  usable.ids.forEach((id, k) => {
    if (done.has(id)) out[usable.index[k]!] = true
  })
  return out
}
