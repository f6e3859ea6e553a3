import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import type { PgqrsConfig, QueueMessage, Store } from '@pgqrs/core'
import type { StoreHarness } from './harness.js'

let counter = 0

/**
 * A queue (or workflow, or worker) name that no other test uses, built from `prefix`: characters
 * outside `[A-Za-z0-9_.:-]` become `-`, and a counter plus a random suffix follow, so the result
 * always matches `^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`.
 */
export function uniqueName(prefix: string): string {
  counter += 1
  const clean = prefix
    .replace(/[^A-Za-z0-9_.:-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 80)
  const suffix = `${counter.toString(36)}-${Math.random().toString(36).slice(2, 8)}`
  return clean ? `${clean}-${suffix}` : `q-${suffix}`
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms (default 5 000). */
  readonly timeoutMs?: number
  /** Pause between attempts in ms (default 25). */
  readonly intervalMs?: number
  /** Named in the timeout error. */
  readonly what?: string
}

/**
 * Calls `probe` until it returns a value other than `undefined`, `null` or `false` and returns that
 * value; a throwing probe counts as a miss. Rejects with the last error (or a timeout error) after
 * `timeoutMs`. Used instead of fixed sleeps: leases in the suite are short and expire by the clock.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5_000
  const intervalMs = options.intervalMs ?? 25
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== null && value !== false) return value
    } catch (error) {
      lastError = error
    }
    if (Date.now() >= deadline) {
      const what = options.what ?? 'condition'
      throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`, { cause: lastError })
    }
    await sleep(intervalMs)
  }
}

/**
 * Awaits `promise` and returns what it rejected with; fails the test when it resolves instead.
 */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    const value = await promise
    expect.fail(`expected a rejection, got ${safeShow(value)}`)
  } catch (error) {
    if (isAssertionError(error)) throw error
    return error
  }
}

function isAssertionError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AssertionError'
}

function safeShow(value: unknown): string {
  try {
    const text = JSON.stringify(value)
    return text === undefined ? String(value) : text.slice(0, 200)
  } catch {
    return String(value)
  }
}

/**
 * Asserts that `actual` is within `toleranceMs` of `expectedMs` (epoch ms), with a readable
 * failure message.
 */
export function expectTimeNear(
  actual: Date | null | undefined,
  expectedMs: number,
  toleranceMs: number,
): void {
  expect(actual, 'expected a Date').toBeInstanceOf(Date)
  const diff = (actual as Date).getTime() - expectedMs
  expect(
    Math.abs(diff),
    `time ${(actual as Date).toISOString()} is ${diff} ms from ${new Date(expectedMs).toISOString()} (tolerance ${toleranceMs} ms)`,
  ).toBeLessThanOrEqual(toleranceMs)
}

/** Tolerance between the database clock and this process's clock (same host in tests). */
export const CLOCK_SLACK_MS = 2_000

/** A store shared by the tests of one area file, opened in `beforeAll` and destroyed in `afterAll`. */
export interface StoreFixture {
  /** The store; throws when read outside a test. */
  readonly store: Store
}

/**
 * Registers `beforeAll`/`afterAll` hooks in the current `describe` that create one store with
 * `harness.create(options)` and destroy it afterwards, and returns a getter for it.
 */
export function useStore(
  harness: StoreHarness,
  options?: { config?: PgqrsConfig; migrate?: boolean },
): StoreFixture {
  let current: Store | undefined
  beforeAll(async () => {
    current = await harness.create(options)
  }, 60_000)
  afterAll(async () => {
    if (current) await harness.destroy(current)
    current = undefined
  }, 60_000)
  return {
    get store(): Store {
      if (!current) throw new Error('store-conformance: the store is only available inside a test')
      return current
    },
  }
}

/** Creates (ensures) a fresh queue named after `prefix` and returns its name. */
export async function freshQueue(store: Store, prefix: string): Promise<string> {
  const name = uniqueName(prefix)
  await store.queues.ensure(name)
  return name
}

/** Enqueues one payload per element of `payloads` (default options) and returns the messages. */
export function enqueuePayloads(
  store: Store,
  queue: string,
  payloads: readonly unknown[],
): Promise<QueueMessage[]> {
  return store.messages.enqueue(
    queue,
    payloads.map((payload) => ({ payload })),
  )
}

/** Dequeues exactly one message (batch 1) or fails the test. */
export async function dequeueOne(
  store: Store,
  queue: string,
  leaseMs = 30_000,
): Promise<QueueMessage> {
  const [message, ...rest] = await store.messages.dequeue(queue, { batchSize: 1, leaseMs })
  expect(rest).toHaveLength(0)
  expect(message, `expected a message from ${queue}`).toBeDefined()
  return message as QueueMessage
}

/**
 * Enqueues one message, dequeues it with a short lease, waits until the lease ran out and dequeues
 * it again: returns the stale first delivery and the current second one.
 */
export async function takeOver(
  store: Store,
  queue: string,
  leaseMs = 200,
): Promise<{ stale: QueueMessage; current: QueueMessage }> {
  await store.messages.enqueue(queue, [{ payload: { takeOver: true } }])
  const stale = await dequeueOne(store, queue, leaseMs)
  const current = await waitFor(
    async () => (await store.messages.dequeue(queue, { batchSize: 1, leaseMs: 30_000 }))[0],
    {
      what: `redelivery of message ${stale.id} after its ${leaseMs} ms lease`,
      timeoutMs: leaseMs + 5_000,
    },
  )
  expect(current.id).toBe(stale.id)
  return { stale, current }
}

/** Total messages of a queue in every state, from `metrics`. */
export async function totalMessages(store: Store, queue: string): Promise<number> {
  const m = await store.queues.metrics(queue)
  if (!m) return 0
  return m.pending + m.leased + m.delayed + m.archived + m.dead
}

/** An error class of `@pgqrs/core` with its cross-copy `is()` guard. */
export interface PgqrsErrorClass<T extends Error> {
  new (...args: any[]): T
  is(value: unknown): value is T
  readonly name: string
}

/**
 * Asserts that `error` is a `cls` (by `cls.is()` and `instanceof`) with `code`, and that its message
 * contains every fragment (strings case-insensitively, or regexps). Returns it typed.
 */
export function expectError<T extends Error>(
  error: unknown,
  cls: PgqrsErrorClass<T>,
  code: string,
  ...fragments: readonly (string | RegExp)[]
): T {
  expect(cls.is(error), `expected ${cls.name}, got ${describeError(error)}`).toBe(true)
  expect(error).toBeInstanceOf(cls)
  const e = error as T & { code: unknown }
  expect(e.code).toBe(code)
  for (const fragment of fragments) {
    if (typeof fragment === 'string') {
      expect(e.message.toLowerCase(), `message of ${cls.name}`).toContain(fragment.toLowerCase())
    } else {
      expect(e.message, `message of ${cls.name}`).toMatch(fragment)
    }
  }
  return e
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return `${error.name}${code === undefined ? '' : ` (${String(code)})`}: ${error.message}`
  }
  return safeShow(error)
}

/**
 * Tracks things a test starts (workers, runners): `track(x)` returns `x`, `track.stopAll()` stops
 * every one tracked in the test. An `afterEach` in the current `describe` stops whatever is still
 * running and then FAILS the test: a test must release what it started, so a leak shows up in the
 * test that caused it instead of being cleaned up silently.
 */
export function leakTracker<T>(
  kind: string,
  isRunning: (t: T) => boolean,
  stop: (t: T) => Promise<void>,
): ((t: T) => T) & { stopAll(): Promise<void> } {
  const tracked = new Set<T>()
  afterEach(async () => {
    const left = [...tracked].filter(isRunning)
    tracked.clear()
    await Promise.all(left.map((t) => stop(t).catch(() => {})))
    if (left.length > 0) {
      throw new Error(
        `the test left ${left.length} ${kind}(s) running: stop them before it ends (await track.stopAll())`,
      )
    }
  })
  const track = (t: T) => {
    tracked.add(t)
    return t
  }
  track.stopAll = async () => {
    await Promise.all([...tracked].map((t) => stop(t)))
  }
  return track
}
