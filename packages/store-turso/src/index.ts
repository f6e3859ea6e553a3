export { TursoStore, type TursoStoreOptions, openStore } from './turso-store.js'
