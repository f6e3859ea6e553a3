/**
 * Settles made inside a store transaction. A workflow delivery archives or releases its message in
 * the transaction that records the run's change (a step retry, a sleep, a cancel), through the
 * transaction's own repositories — not `store.messages`, which the worker child instruments. Such a
 * release gives the message back before its lease ends, so the suite must hear of it, and only the
 * transaction's end decides whether it applied: reported `settled` once it committed, and
 * `settle-unknown` when the transaction threw (a lost COMMIT reply leaves it applied all the same).
 */
import type { LeaseRef, StoreTransaction } from '@pgqrs/core'
import { errorInfo, send } from './runtime.ts'

type Fn = (...a: any[]) => Promise<any>

interface TxSettle {
  readonly op: string
  readonly refs: readonly LeaseRef[]
  /** Per message, as the statement answered; null when the statement threw. */
  oks: boolean[] | null
}

const OPS = ['archive', 'release', 'delete', 'fail'] as const

/** Wraps the settles of `tx.messages`, recording each call in `made`. */
function recordSettles(tx: StoreTransaction, made: TxSettle[]): void {
  const messages = tx.messages as unknown as Record<string, Fn>
  for (const op of OPS) {
    const orig = messages[op]!.bind(tx.messages)
    messages[op] = async (refs: LeaseRef | LeaseRef[], ...rest: unknown[]) => {
      const entry: TxSettle = { op, refs: Array.isArray(refs) ? refs : [refs], oks: null }
      made.push(entry)
      const result = await orig(refs, ...rest)
      entry.oks = op === 'fail' ? [result !== 'lost'] : (result as boolean[])
      return result
    }
  }
}

/**
 * Reports what the transaction's settles did, now that it has ended (`failed`: it threw). Per
 * message: refused when its statement answered "not current"; applied when it answered yes and the
 * transaction committed; unknown when the statement or the transaction threw.
 */
async function report(made: readonly TxSettle[], failed: unknown): Promise<void> {
  for (const s of made) {
    const results: (readonly [number, string | null, boolean])[] = []
    const unknown: (readonly [number, string | null])[] = []
    s.refs.forEach((r, i) => {
      const ref = [r.id, r.lease ?? null] as const
      if (s.oks !== null && s.oks[i] !== true) results.push([...ref, false])
      else if (s.oks !== null && failed === null) results.push([...ref, true])
      else unknown.push(ref)
    })
    const at = Date.now()
    if (results.length > 0) await send({ t: 'settled', at, op: s.op, results })
    if (unknown.length > 0) {
      const error = errorInfo(
        failed ?? new Error(`${s.op} threw inside a transaction that committed`),
      )
      await send({ t: 'settle-unknown', at, op: s.op, refs: unknown, error })
    }
  }
}

/**
 * `store.transaction` with the settles of its repositories reported after it ends.
 *
 * @param transaction - the store's own `transaction`, bound to the store
 */
export function reportingTransaction(
  transaction: <T>(fn: (tx: StoreTransaction) => Promise<T>) => Promise<T>,
): <T>(fn: (tx: StoreTransaction) => Promise<T>) => Promise<T> {
  return async (fn) => {
    const made: TxSettle[] = []
    let result: Awaited<ReturnType<typeof fn>>
    try {
      result = await transaction((tx) => {
        recordSettles(tx, made)
        return fn(tx)
      })
    } catch (e) {
      await report(made, e)
      throw e
    }
    await report(made, null)
    return result
  }
}
