import { type ResolvedConfig, validatePayload } from '@pgqrs/core'

/**
 * A value to store in a JSON column: undefined becomes SQL NULL (and reads back as undefined); any
 * other value must round-trip through JSON (`ValidationError` naming the path otherwise). @internal
 */
export function jsonText(value: unknown, config: ResolvedConfig): string | null {
  if (value === undefined) return null
  return validatePayload(value, config.validation, undefined, { undefinedProperties: 'drop' })
}
