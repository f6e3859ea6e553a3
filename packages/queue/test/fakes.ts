import { resolveConfig, type Store } from '@pgqrs/core'

/**
 * A store stand-in for pure-logic tests: every property read throws, so a test proves that the
 * code under test refused its input before touching the store. `config` is the one readable field.
 */
export function untouchableStore(): Store {
  const config = resolveConfig({ logger: false })
  return new Proxy({} as Store, {
    get(_target, prop) {
      if (prop === 'config') return config
      if (prop === 'then') return undefined
      throw new Error(`the store was used (store.${String(prop)}) before the input was validated`)
    },
  })
}

/** What {@link recordingStore} saw. */
export interface Recorded {
  readonly queues: string[]
  readonly registered: { name: string; queue?: string | null }[]
  readonly fails: { id: number; error: string; retryDelayMs: number }[]
}

/**
 * A store stand-in that records queue ensures, worker registrations and `messages.fail` calls
 * (answering `failOutcome`), for the logic of builders and `Consumer.fail` without a database.
 */
export function recordingStore(failOutcome: 'retried' | 'dead' | 'lost' = 'retried'): {
  store: Store
  seen: Recorded
} {
  const seen: Recorded = { queues: [], registered: [], fails: [] }
  let nextId = 1
  const store = {
    config: resolveConfig({ logger: false }),
    async queue(name: string) {
      seen.queues.push(name)
      return { id: 1, name, createdAt: new Date() }
    },
    workers: {
      async register(w: { name: string; queue?: string | null }) {
        seen.registered.push(w)
        return { id: nextId++, name: w.name, status: 'ready' }
      },
    },
    messages: {
      async fail(ref: { id: number }, error: string, retryDelayMs: number) {
        seen.fails.push({ id: ref.id, error, retryDelayMs })
        return failOutcome
      },
      async archive(refs: readonly unknown[]) {
        return refs.map(() => false)
      },
      async delete(refs: readonly unknown[]) {
        return refs.map(() => false)
      },
      async extendLease() {
        return false
      },
      async release(refs: readonly unknown[]) {
        return refs.map(() => false)
      },
    },
  }
  return { store: store as unknown as Store, seen }
}
