/** A structured logger; pgqrs puts ids in `meta`, never in the message text. */
export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void
  info(message: string, meta?: Record<string, unknown>): void
  warn(message: string, meta?: Record<string, unknown>): void
  error(message: string, meta?: Record<string, unknown>): void
}

const noop = () => {}

/** The default logger: warn and error go to the console with a `pgqrs:` prefix; debug and info are dropped. */
export const consoleLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: (message: string, meta?: Record<string, unknown>) =>
    console.warn(`pgqrs: ${message}`, ...(meta ? [meta] : [])),
  error: (message: string, meta?: Record<string, unknown>) =>
    console.error(`pgqrs: ${message}`, ...(meta ? [meta] : [])),
})

/** A logger that drops everything (`logger: false`). */
export const silentLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
})

/** A logger that adds `scope` to the meta of every call (graphile-style scopes). */
export function withScope(logger: Logger, scope: Record<string, unknown>): Logger {
  return {
    debug: (m, meta) => logger.debug(m, { ...scope, ...meta }),
    info: (m, meta) => logger.info(m, { ...scope, ...meta }),
    warn: (m, meta) => logger.warn(m, { ...scope, ...meta }),
    error: (m, meta) => logger.error(m, { ...scope, ...meta }),
  }
}
