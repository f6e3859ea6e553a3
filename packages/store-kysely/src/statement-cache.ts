/** How many prepared statements a connection keeps by default. */
export const DEFAULT_STATEMENT_CACHE_SIZE = 256

/**
 * A bounded LRU of prepared statements for one connection, keyed by SQL text. Kysely's SQLite
 * driver and libSQL's client prepare every statement anew; each prepared statement holds native
 * memory that V8 does not see, so it is only freed when a garbage collection happens to finalise
 * its wrapper. A busy worker prepared faster than that: 2 000 workflow runs peaked at 550–620 MB
 * RSS on SQLite and Turso (211 MB on Postgres). Reusing the statement of a SQL text keeps a
 * connection at a few hundred statements; the least recently used one is dropped beyond `max`.
 *
 * @internal
 */
export class StatementCache<S> {
  readonly #max: number
  readonly #map = new Map<string, S>()

  constructor(max = DEFAULT_STATEMENT_CACHE_SIZE) {
    this.#max = max
  }

  /** Statements held now. */
  get size(): number {
    return this.#map.size
  }

  /**
   * The statement for `sql`: the cached one unless `usable` refuses it (a statement still
   * iterating a result cannot run again), otherwise a new one from `prepare`, cached.
   */
  get(sql: string, prepare: (sql: string) => S, usable: (s: S) => boolean = () => true): S {
    const hit = this.#map.get(sql)
    if (hit !== undefined && usable(hit)) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.#map.delete(sql)
      this.#map.set(sql, hit)
      return hit
    }
    const stmt = prepare(sql)
    if (hit !== undefined) return stmt // the cached one is busy: use this one once
    this.#map.set(sql, stmt)
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!)
    return stmt
  }

  /** Forgets every statement (the connection is closing or was replaced). */
  clear(): void {
    this.#map.clear()
  }
}
