import { SchemaNotInstalledError, SchemaVersionError } from './errors.js'
import type { Store } from './store/store.js'

/**
 * Throws unless the store's schema is exactly what its code expects: `SchemaNotInstalledError`
 * when pgqrs is not installed, `SchemaVersionError` (`older`: run install; `newer`: upgrade the
 * code) otherwise. Queue and workflow workers call it when they start.
 */
export async function assertSchemaCurrent(store: Store): Promise<void> {
  const s = await store.schemaStatus()
  if (s.state === 'current') return
  if (s.state === 'missing') throw new SchemaNotInstalledError(s.location)
  throw new SchemaVersionError(
    s.state,
    s.expected,
    s.installed,
    s.state === 'older' ? s.pending : s.unknown,
  )
}
