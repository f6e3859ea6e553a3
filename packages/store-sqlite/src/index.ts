export { SqliteStore, type SqliteStoreOptions, openStore } from './sqlite-store.js'
