export { KyselyStore, type KyselyStoreOptions, notifyChannel } from './kysely-store.js'
export type { Family } from './dialect.js'
export type { SqliteBegin } from './exec.js'
export { translateError, isBusy } from './translate-error.js'
