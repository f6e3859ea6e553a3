import {
  BackoffStrategy,
  ConfigError,
  LeaseLostError,
  type QueueMessage,
  ValidationError,
} from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import { Consumer, consumer, dequeue, enqueue, producer, worker } from '../src/index.js'
import { recordingStore, untouchableStore } from './fakes.js'

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  return expect.fail('expected a throw')
}

function expectValidation(error: unknown, ...fragments: string[]): ValidationError {
  expect(ValidationError.is(error), `expected ValidationError, got ${String(error)}`).toBe(true)
  for (const f of fragments) expect((error as Error).message).toContain(f)
  return error as ValidationError
}

const message = (over: Partial<QueueMessage> = {}): QueueMessage => ({
  id: 7,
  queueId: 1,
  queue: 'q',
  payload: null,
  priority: 0,
  enqueuedAt: new Date(),
  visibleAt: new Date(),
  attempts: 1,
  maxAttempts: 5,
  lease: 'a'.repeat(32),
  consumerId: null,
  producerId: null,
  dedupeKey: null,
  lastError: null,
  dequeuedAt: new Date(),
  archivedAt: null,
  deadAt: null,
  ...over,
})

describe('enqueue builder validation (before any store call)', () => {
  it('no messages', async () => {
    const e = await enqueue()
      .to('q')
      .execute(untouchableStore())
      .catch((x: unknown) => x)
    expectValidation(e, 'No messages to enqueue: call .message() or .messages() before .execute()')
    const e2 = await enqueue()
      .messages([])
      .to('q')
      .execute(untouchableStore())
      .catch((x: unknown) => x)
    expectValidation(e2, 'No messages to enqueue')
  })

  it('no queue', async () => {
    const e = await enqueue()
      .message({ n: 1 })
      .execute(untouchableStore())
      .catch((x: unknown) => x)
    expectValidation(
      e,
      'No queue to enqueue to: call .to(queue) (or .worker(producer)) before .execute()',
    )
  })

  it('bad queue name, delay, and messages that are not an array', () => {
    expectValidation(
      thrown(() => enqueue().to('bad name')),
      'queue name',
      '"bad name"',
    )
    expectValidation(
      thrown(() => enqueue().delay(-1)),
      'delayMs',
    )
    expectValidation(
      thrown(() => enqueue().delay(0.5)),
      'delayMs',
    )
    expectValidation(
      thrown(() => enqueue().messages('x' as never)),
      'messages',
    )
  })
})

describe('dequeue builder validation (before any store call)', () => {
  it('a single-message handler with batch 2', async () => {
    const e = await dequeue()
      .from('q')
      .batch(2)
      .handle(() => {})
      .execute(untouchableStore())
      .catch((x: unknown) => x)
    const v = expectValidation(
      e,
      'single-message handlers require batch size = 1, got 2: use .handleBatch()',
    )
    expect(v.field).toBe('batch')
  })

  it('no handler, no queue', async () => {
    const e = await dequeue()
      .from('q')
      .execute(untouchableStore())
      .catch((x: unknown) => x)
    expectValidation(e, 'No handler: call .handle(fn) or .handleBatch(fn) before .execute()')
    const e2 = await dequeue()
      .handle(() => {})
      .execute(untouchableStore())
      .catch((x: unknown) => x)
    expectValidation(e2, 'No queue to dequeue from: call .from(queue) (or .worker(consumer)) first')
  })

  it('poll() without a handler is refused before the store is touched', async () => {
    const e = await dequeue()
      .from('q')
      .poll(untouchableStore())
      .catch((x: unknown) => x)
    expectValidation(e, 'No handler: call .handle(fn) before .poll()')
  })

  it('batch and leaseMs ranges, queue names', () => {
    expectValidation(
      thrown(() => dequeue().batch(0)),
      'batch',
    )
    expectValidation(
      thrown(() => dequeue().batch(1001)),
      'batch',
      '1000',
    )
    expectValidation(
      thrown(() => dequeue().leaseMs(0)),
      'leaseMs',
    )
    expectValidation(
      thrown(() => dequeue().from('')),
      'queue name',
    )
  })
})

describe('named producers and consumers', () => {
  it('validate names and queues synchronously', () => {
    expectValidation(
      thrown(() => producer('', 'q')),
      'worker name',
    )
    expectValidation(
      thrown(() => producer('api-1', 'bad name')),
      'queue name',
    )
    expectValidation(
      thrown(() => consumer('w', 'bad name')),
      'queue name',
    )
    expectValidation(
      thrown(() => consumer('w', 70_000, 'q')),
      'port',
    )
    expectValidation(
      thrown(() => consumer('w', 8080)),
      'queue name',
    )
  })

  it("consumer('worker-1', 8080, q) registers worker-1:8080; consumer(name, q) and producer(name, q) keep the name", async () => {
    const { store, seen } = recordingStore()
    const c1 = await consumer('worker-1', 8080, 'archive_files').create(store)
    const c2 = await consumer('worker-1', 'tasks').create(store)
    const p = await producer('api-1', 'tasks').create(store)
    expect(seen.registered.map((r) => [r.name, r.queue])).toEqual([
      ['worker-1:8080', 'archive_files'],
      ['worker-1', 'tasks'],
      ['api-1', 'tasks'],
    ])
    expect(seen.queues).toEqual(['archive_files', 'tasks', 'tasks'])
    expect([c1.queue, c1.workerId, c2.workerId, p.workerId]).toEqual(['archive_files', 1, 2, 3])
  })
})

describe('worker() argument checks (before any store call)', () => {
  it('a bad queue name, a handler that is not a function, bad options', () => {
    const store = untouchableStore()
    expectValidation(
      thrown(() => worker(store, 'bad name', () => {})),
      'queue name',
    )
    expect(thrown(() => worker(store, 'q', 'nope' as never))).toBeInstanceOf(ConfigError)
    const e = thrown(() => worker(store, 'q', () => {}, { concurrency: 0 }))
    expect((e as { code?: string }).code).toBe('CONFIG')
    expect(worker(store, 'q', () => {}).state).toBe('idle')
  })
})

describe('Consumer.fail delay and *OrThrow (store answers recorded)', () => {
  it('uses delayMs when given, else the backoff for the attempt', async () => {
    const { store, seen } = recordingStore()
    const c = new Consumer(store, 'q', null, BackoffStrategy.exponential(100, 1_000))
    expect(await c.fail(message({ attempts: 1 }), new Error('x'))).toBe('retried')
    expect(await c.fail(message({ attempts: 3 }), new Error('x'))).toBe('retried')
    expect(await c.fail(message({ attempts: 9 }), new Error('x'))).toBe('retried')
    expect(await c.fail(message({ attempts: 3 }), new Error('x'), { delayMs: 5 })).toBe('retried')
    expect(
      await c.fail(message({ attempts: 1 }), 'plain', { backoff: BackoffStrategy.fixed(42) }),
    ).toBe('retried')
    expect(seen.fails.map((f) => f.retryDelayMs)).toEqual([100, 400, 1_000, 5, 42])
    expect(seen.fails[4]!.error).toMatch(/^Error: plain/)
  })

  it('refuses a bad delay before the store', async () => {
    const c = new Consumer(untouchableStore(), 'q')
    expectValidation(
      await c.fail(message(), new Error('x'), { delayMs: -1 }).catch((e: unknown) => e),
      'delayMs',
    )
    expectValidation(await c.fail(null as never, new Error('x')).catch((e: unknown) => e), 'msg')
  })

  it('maps a lost lease to false and to LeaseLostError', async () => {
    const { store } = recordingStore('lost')
    const c = new Consumer(store, 'q')
    expect(await c.fail(message(), new Error('x'))).toBe(false)
    for (const call of [
      () => c.failOrThrow(message(), new Error('x')),
      () => c.archiveOrThrow(message()),
      () => c.deleteOrThrow(message()),
      () => c.extendLeaseOrThrow(message(), 1_000),
      () => c.releaseOrThrow(message()),
    ]) {
      const e = await call().catch((x: unknown) => x)
      expect(LeaseLostError.is(e)).toBe(true)
      expect((e as LeaseLostError).messageId).toBe(7)
    }
  })
})
