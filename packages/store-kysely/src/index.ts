export { KyselyStore, type KyselyStoreOptions, notifyChannel } from './kysely-store.js'
export type { Family } from './family.js'
export type { SqliteBegin } from './sqlite/exec.js'
export { isBusy } from './translate-error.js'
