export { PostgresStore, type PostgresStoreOptions, openStore } from './postgres-store.js'
