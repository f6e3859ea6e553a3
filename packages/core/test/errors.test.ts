import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  ConflictError,
  ConnectionError,
  InvalidStateTransitionError,
  isPgqrsErrorCode,
  LeaseLostError,
  MigrationError,
  NotFoundError,
  PGQRS_ERROR_CODES,
  PgqrsError,
  QueueAlreadyExistsError,
  QueueNotFoundError,
  SchemaNotInstalledError,
  StoreError,
  TimeoutError,
  toError,
  ValidationError,
  WorkerActiveError,
  WorkflowNotFoundError,
} from '../src/index.js'

type ErrorClass = { is(value: unknown): boolean; name: string } & (abstract new (
  ...args: never[]
) => PgqrsError)

interface Case {
  cls: ErrorClass
  make: () => PgqrsError
  code: string
  /** Fields the instance must carry, and words the message must contain. */
  fields: Record<string, unknown>
  says: string[]
}

const cause = new Error('driver said no')

const CASES: Case[] = [
  {
    cls: PgqrsError,
    // a code without a class of its own (the queue and workflow layers add those)
    make: () => new PgqrsError('CANCELLED', 'base message', { cause }),
    code: 'CANCELLED',
    fields: { message: 'base message', cause },
    says: ['base message'],
  },
  {
    cls: ConfigError,
    make: () => new ConfigError('leaseMs', 'bad leaseMs', { cause }),
    code: 'CONFIG',
    fields: { field: 'leaseMs', cause },
    says: ['bad leaseMs'],
  },
  {
    cls: ConnectionError,
    make: () => new ConnectionError('postgres', 'cannot reach 127.0.0.1:1'),
    code: 'CONNECTION',
    fields: { backend: 'postgres' },
    says: ['127.0.0.1:1'],
  },
  {
    cls: SchemaNotInstalledError,
    make: () => new SchemaNotInstalledError('jobs'),
    code: 'SCHEMA_NOT_INSTALLED',
    fields: { schema: 'jobs' },
    says: ['jobs', 'install'],
  },
  {
    cls: MigrationError,
    make: () => new MigrationError('boom', '0002_runs'),
    code: 'MIGRATION',
    fields: { migration: '0002_runs' },
    says: ['boom'],
  },
  {
    cls: ValidationError,
    make: () => new ValidationError('batchSize', 0, 'an integer from 1 to 1000'),
    code: 'VALIDATION',
    fields: { field: 'batchSize', value: 0, allowed: 'an integer from 1 to 1000' },
    says: ['batchSize', 'an integer from 1 to 1000'],
  },
  {
    cls: NotFoundError,
    make: () => new NotFoundError('message', 42),
    code: 'NOT_FOUND',
    fields: { entity: 'message', id: 42 },
    says: ['message', '42', 'not found'],
  },
  {
    cls: QueueNotFoundError,
    make: () => new QueueNotFoundError('emails'),
    code: 'QUEUE_NOT_FOUND',
    fields: { entity: 'queue', id: 'emails' },
    says: ['"emails" does not exist', 'create it'],
  },
  {
    cls: WorkflowNotFoundError,
    make: () => new WorkflowNotFoundError('signup'),
    code: 'WORKFLOW_NOT_FOUND',
    fields: { entity: 'workflow', id: 'signup' },
    says: ['"signup" does not exist'],
  },
  {
    cls: ConflictError,
    make: () => new ConflictError('run', 'idem-1'),
    code: 'CONFLICT',
    fields: { entity: 'run', key: 'idem-1' },
    says: ['"idem-1" already exists'],
  },
  {
    cls: QueueAlreadyExistsError,
    make: () => new QueueAlreadyExistsError('emails'),
    code: 'QUEUE_ALREADY_EXISTS',
    fields: { entity: 'queue', key: 'emails' },
    says: ['"emails" already exists'],
  },
  {
    cls: WorkerActiveError,
    make: () => new WorkerActiveError('w1', 'polling'),
    code: 'WORKER_ACTIVE',
    fields: { entity: 'worker', key: 'w1', status: 'polling' },
    says: ['"w1"', 'polling'],
  },
  {
    cls: LeaseLostError,
    make: () => new LeaseLostError(7, 'archive'),
    code: 'LEASE_LOST',
    fields: { messageId: 7 },
    says: ['message 7', 'archive refused'],
  },
  {
    cls: InvalidStateTransitionError,
    make: () =>
      new InvalidStateTransitionError('worker', 'stopped', 'polling', ['ready', 'polling']),
    code: 'INVALID_STATE_TRANSITION',
    fields: { entity: 'worker', from: 'stopped', to: 'polling' },
    says: ['from stopped to polling', 'ready, polling'],
  },
  {
    cls: StoreError,
    make: () => new StoreError('sqlite', 'dequeue', 'disk I/O error', { cause }),
    code: 'STORE',
    fields: { backend: 'sqlite', operation: 'dequeue', cause },
    says: ['sqlite', 'dequeue', 'disk I/O error'],
  },
  {
    cls: TimeoutError,
    make: () => new TimeoutError('connect', 2500),
    code: 'TIMEOUT',
    fields: { timeoutMs: 2500 },
    says: ['connect', '2500 ms'],
  },
]

describe('error classes', () => {
  it.each(CASES.map((c) => [c.cls.name, c] as const))(
    '%s has its code, name, fields and message',
    (_, c) => {
      const err = c.make()
      expect(err).toBeInstanceOf(Error)
      expect(err).toBeInstanceOf(PgqrsError)
      expect(err).toBeInstanceOf(c.cls)
      expect(err.code).toBe(c.code)
      expect(err.name).toBe(c.cls.name)
      expect(isPgqrsErrorCode(err.code)).toBe(true)
      expect(err).toMatchObject(c.fields)
      for (const words of c.says) expect(err.message).toContain(words)
      expect(String(err)).toMatch(new RegExp(`^${c.cls.name}: `))
      expect(err.stack).toBeTypeOf('string')
    },
  )

  it('gives every class a distinct name and a distinct code', () => {
    const names = CASES.map((c) => c.make().name)
    expect(new Set(names).size).toBe(names.length)
    const codes = CASES.map((c) => c.code)
    expect(new Set(codes).size).toBe(codes.length)
  })

  it('X.is() is true exactly for instances of X and its subclasses', () => {
    const mismatches: string[] = []
    for (const checker of CASES) {
      for (const made of CASES) {
        const err = made.make()
        const expected = err instanceof checker.cls
        if (checker.cls.is(err) !== expected) {
          mismatches.push(`${checker.cls.name}.is(${err.name}) should be ${expected}`)
        }
      }
    }
    expect(mismatches).toEqual([])
  })

  it('the sub-kinds are recognised by their parent class only', () => {
    expect(NotFoundError.is(new QueueNotFoundError('q'))).toBe(true)
    expect(NotFoundError.is(new WorkflowNotFoundError('w'))).toBe(true)
    expect(QueueNotFoundError.is(new NotFoundError('queue', 'q'))).toBe(false)
    expect(ConflictError.is(new QueueAlreadyExistsError('q'))).toBe(true)
    expect(ConflictError.is(new WorkerActiveError('w', 'ready'))).toBe(true)
    expect(QueueAlreadyExistsError.is(new WorkerActiveError('w', 'ready'))).toBe(false)
  })

  it.each(CASES.map((c) => [c.cls.name, c.cls] as const))(
    '%s.is() is false for plain errors and non-errors',
    (_, cls) => {
      expect(cls.is(new Error('plain'))).toBe(false)
      expect(cls.is(new TypeError('type'))).toBe(false)
      expect(cls.is(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false)
      expect(cls.is(undefined)).toBe(false)
      expect(cls.is(null)).toBe(false)
      expect(cls.is('CONFIG')).toBe(false)
      // an object that only looks like an error is not one
      expect(cls.is({ name: cls.name, code: 'CONFIG', message: 'm' })).toBe(false)
    },
  )

  it('recognises an error from a duplicate copy of the package (a plain Error with a valid code)', () => {
    const foreign = Object.assign(new Error('from another copy'), { code: 'QUEUE_NOT_FOUND' })
    expect(foreign).not.toBeInstanceOf(PgqrsError)
    expect(PgqrsError.is(foreign)).toBe(true)
    expect(QueueNotFoundError.is(foreign)).toBe(true)
    expect(NotFoundError.is(foreign)).toBe(true)
    expect(ConfigError.is(foreign)).toBe(false)
    for (const code of PGQRS_ERROR_CODES) {
      expect(PgqrsError.is(Object.assign(new Error(code), { code }))).toBe(true)
    }
    expect(PgqrsError.is(Object.assign(new Error('x'), { code: 'config' }))).toBe(false)
    expect(PgqrsError.is(Object.assign(new Error('x'), { code: 1 }))).toBe(false)
  })

  it('recognises an instance of a genuinely separate module copy', async () => {
    // a query string makes the module runner load errors.ts a second time: new, unrelated classes
    const specifier = '../src/errors.js?duplicate-copy'
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof import('../src/errors.js')
    expect(copy.ConfigError).not.toBe(ConfigError)
    const err = new copy.ConfigError('schema', 'bad schema')
    expect(err).not.toBeInstanceOf(ConfigError)
    expect(ConfigError.is(err)).toBe(true)
    expect(PgqrsError.is(err)).toBe(true)
    expect(ValidationError.is(err)).toBe(false)
    expect(copy.LeaseLostError.is(new LeaseLostError(1))).toBe(true)
  })

  it('keeps MigrationError.migration undefined when not given', () => {
    expect(new MigrationError('m').migration).toBeUndefined()
  })

  it('WorkerActiveError explains a suspended worker differently', () => {
    const err = new WorkerActiveError('w', 'suspended')
    expect(err.message).toContain('suspended')
    expect(err.message).toContain('resume')
    expect(err.message).not.toContain('already active')
  })

  it('InvalidStateTransitionError says when no state allows the target', () => {
    const err = new InvalidStateTransitionError('run', 'SUCCESS', 'QUEUED', [])
    expect(err.message).toContain('no state')
  })
})

describe('isPgqrsErrorCode', () => {
  it('accepts exactly the documented codes', () => {
    for (const code of PGQRS_ERROR_CODES) expect(isPgqrsErrorCode(code)).toBe(true)
    for (const bad of ['', 'config', 'CONFIG ', 'ENOENT', 42, null, undefined, {}]) {
      expect(isPgqrsErrorCode(bad)).toBe(false)
    }
  })
})

describe('toError', () => {
  it('returns an Error unchanged', () => {
    const e = new RangeError('r')
    expect(toError(e)).toBe(e)
  })

  it('wraps strings, objects and odd values without throwing', () => {
    expect(toError('boom').message).toBe('boom')
    expect(toError({ a: 1 }).message).toBe('{"a":1}')
    expect(toError(undefined).message).toBe('undefined')
    expect(toError(10n).message).toBe('10')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(toError(cyclic)).toBeInstanceOf(Error)
  })
})
