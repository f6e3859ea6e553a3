export { run, EXIT } from './run.js'
export type { CliIo } from './io.js'
