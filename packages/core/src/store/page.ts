/**
 * Options of a paged list (keyset paging): at most `limit` items (default 100, at most 1000)
 * that sort after the cursor `after`, the sort key of the last item of the previous page (a name
 * for queues and workflows, an id for workers and steps). A page shorter than `limit` is the last.
 *
 * @example
 * ```ts
 * const first = await store.queues.list({ limit: 50 })
 * const next = await store.queues.list({ limit: 50, after: first.at(-1)?.name })
 * ```
 */
export interface PageOptions<C extends string | number> {
  readonly limit?: number
  readonly after?: C
}
