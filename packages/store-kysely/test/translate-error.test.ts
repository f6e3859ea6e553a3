import {
  ConflictError,
  ConnectionError,
  PgqrsError,
  QueueNotFoundError,
  SchemaNotInstalledError,
  StoreError,
} from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import { translatePostgresError } from '../src/postgres/errors.js'
import { translateSqliteError } from '../src/sqlite/errors.js'
import { isBusy } from '../src/translate-error.js'

/** The family's translation, as the family's exec calls it. */
async function translateError(
  error: unknown,
  c: {
    family: 'postgres' | 'sqlite'
    backend: string
    operation: string
    schema: string
    isInstalled: () => Promise<boolean>
  },
): Promise<Error> {
  return c.family === 'postgres' ? translatePostgresError(error, c) : translateSqliteError(error, c)
}

const ctx = (family: 'postgres' | 'sqlite', installed = true) => ({
  backend: family === 'postgres' ? 'postgres' : 'sqlite',
  family,
  operation: 'op.test',
  schema: 'pgqrs',
  isInstalled: async () => installed,
})
const err = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`driver says ${code}`), { code }, extra)

describe('translateError (by code, never by message text)', () => {
  it('passes pgqrs errors through unchanged', async () => {
    const e = new QueueNotFoundError('q')
    expect(await translateError(e, ctx('postgres'))).toBe(e)
  })
  it.each(['42P01', '3F000'])(
    'postgres %s → SchemaNotInstalledError naming the schema',
    async (code) => {
      const out = await translateError(err(code), ctx('postgres'))
      expect(SchemaNotInstalledError.is(out)).toBe(true)
      expect(out.message).toContain('"pgqrs"')
      expect((out as Error).cause).toBeInstanceOf(Error)
    },
  )
  it('postgres 23505 → ConflictError naming the constraint', async () => {
    const out = await translateError(
      err('23505', { constraint: 'pgqrs_queues_name_key' }),
      ctx('postgres'),
    )
    expect(ConflictError.is(out)).toBe(true)
    expect((out as ConflictError).key).toBe('pgqrs_queues_name_key')
  })
  it.each(['ECONNREFUSED', '57P01', '08006', '28P01'])(
    'postgres %s → ConnectionError',
    async (code) => {
      expect(ConnectionError.is(await translateError(err(code), ctx('postgres')))).toBe(true)
    },
  )
  it('an unknown postgres code → StoreError with backend, operation and the code', async () => {
    const out = (await translateError(err('22P02'), ctx('postgres'))) as StoreError
    expect(StoreError.is(out)).toBe(true)
    expect(out.operation).toBe('op.test')
    expect(out.message).toContain('22P02')
  })
  it('a message that looks like a unique violation but has no code is NOT a conflict', async () => {
    const out = await translateError(
      new Error('duplicate key value violates unique constraint'),
      ctx('postgres'),
    )
    expect(ConflictError.is(out)).toBe(false)
    expect(StoreError.is(out)).toBe(true)
  })
  it.each(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY'])(
    'sqlite %s → ConflictError',
    async (code) => {
      expect(ConflictError.is(await translateError(err(code), ctx('sqlite')))).toBe(true)
    },
  )
  it('libSQL wraps the extended code in its cause: still a ConflictError', async () => {
    const inner = err('SQLITE_CONSTRAINT_UNIQUE')
    const outer = Object.assign(new Error('SQLITE_CONSTRAINT: UNIQUE constraint failed'), {
      code: 'SQLITE_CONSTRAINT',
      cause: inner,
    })
    expect(ConflictError.is(await translateError(outer, ctx('sqlite')))).toBe(true)
  })
  it('libSQL raw code 2067 without a cause → ConflictError; a plain SQLITE_CONSTRAINT (check) is not', async () => {
    const raw = Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT', rawCode: 2067 })
    expect(ConflictError.is(await translateError(raw, ctx('sqlite')))).toBe(true)
    const check = Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT', rawCode: 275 })
    expect(ConflictError.is(await translateError(check, ctx('sqlite')))).toBe(false)
  })
  it('SQLITE_ERROR when pgqrs is not installed → SchemaNotInstalledError; when installed → StoreError', async () => {
    expect(
      SchemaNotInstalledError.is(await translateError(err('SQLITE_ERROR'), ctx('sqlite', false))),
    ).toBe(true)
    expect(StoreError.is(await translateError(err('SQLITE_ERROR'), ctx('sqlite', true)))).toBe(true)
  })
  it('SQLITE_CANTOPEN → ConnectionError', async () => {
    expect(ConnectionError.is(await translateError(err('SQLITE_CANTOPEN'), ctx('sqlite')))).toBe(
      true,
    )
  })
  it('non-Error thrown values become errors with a cause', async () => {
    const out = await translateError('boom', ctx('sqlite'))
    expect(PgqrsError.is(out)).toBe(true)
    expect(((out as Error).cause as Error).message).toBe('boom')
  })
})

describe('isBusy', () => {
  it.each([
    [err('SQLITE_BUSY'), true],
    [err('SQLITE_BUSY_SNAPSHOT'), true],
    [err('SQLITE_LOCKED'), true],
    [Object.assign(new Error('x'), { code: 'SQLITE_ERROR', rawCode: 5 }), false],
    [Object.assign(new Error('x'), { code: 'SQLITE_BUSY', rawCode: 5 }), true],
    [err('SQLITE_CONSTRAINT_UNIQUE'), false],
    [new Error('database is locked'), false],
  ])('%o → %s', (e, busy) => {
    expect(isBusy(e)).toBe(busy)
  })
})
