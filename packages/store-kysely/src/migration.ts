/**
 * A forward-only schema migration, as frozen text: it imports nothing and is never edited once
 * released (a change is a new migration), so an old database upgrades through exactly the
 * statements a fresh one ran. Each family lists its own in `<family>/migrations/index.ts`.
 * @internal
 */
export interface PgqrsMigration {
  /** `NNNN_description`; applied in order and recorded in `pgqrs_migrations`. */
  readonly name: string
  /**
   * The statements, run in order in the install transaction. On Postgres `{{schema}}` stands for
   * the quoted schema name; the sqlite family has no schema.
   */
  readonly statements: readonly string[]
}

/** A Postgres identifier, quoted: any name is safe inside it. @internal */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** A migration statement with `{{schema}}` replaced by the quoted schema name. @internal */
export function renderStatement(text: string, schema: string): string {
  const quoted = quoteIdent(schema)
  // a function, not a string: `$$` and `$&` in a schema name are not replacement patterns
  return text.replaceAll('{{schema}}', () => quoted)
}
