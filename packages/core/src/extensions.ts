import { PgqrsError } from './errors.js'
import type { Store } from './store/store.js'

type StoreMethod = (store: Store, ...args: any[]) => unknown

const KEY = Symbol.for('pgqrs.storeMethods')
const holder = globalThis as Record<symbol, unknown>
if (!(holder[KEY] instanceof Map)) holder[KEY] = new Map<string, StoreMethod>()
const registry = holder[KEY] as Map<string, StoreMethod>

/**
 * Registers methods that stores expose once a higher package is loaded (`store.producer()` and
 * `store.consumer()` come from `@pgqrs/queue`). Shared through a global symbol, so duplicate copies
 * of `@pgqrs/core` see one registry. @internal
 */
export function registerStoreMethods(methods: Record<string, StoreMethod>): void {
  for (const [name, fn] of Object.entries(methods)) registry.set(name, fn)
}

/** Calls a registered store method; says which package to import when it is missing. @internal */
export function callStoreMethod(name: string, store: Store, args: unknown[]): unknown {
  const fn = registry.get(name)
  if (!fn) {
    throw new PgqrsError(
      'CONFIG',
      `store.${name}() comes from @pgqrs/queue: import '@pgqrs/queue' (or 'pgqrs') before calling it`,
    )
  }
  return fn(store, ...args)
}
