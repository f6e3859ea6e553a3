import { duration } from './format.js'
import type { ViewContext } from './layout.js'

/** The ages `purge archived` offers: archived longer ago than this (0: every archived message). */
export const PURGE_AGES: readonly number[] = [
  3_600_000,
  86_400_000,
  7 * 86_400_000,
  30 * 86_400_000,
  0,
]

/** A purge age in words. */
export function purgeAgeLabel(ms: number): string {
  return ms === 0 ? 'every archived message' : `archived more than ${duration(ms)} ago`
}

/** The first step of a purge: pick an age, then confirm on the next page (a GET, no change yet). */
export function PurgeForm(props: { v: ViewContext; queue: string }) {
  const { v } = props
  return (
    <section>
      <h2>Purge archived messages</h2>
      <form
        method="get"
        action={`${v.base}/queues/${encodeURIComponent(props.queue)}/purge`}
        class="filters"
      >
        <label>
          Delete archived messages
          <select name="olderThanMs">
            {PURGE_AGES.map((ms) => (
              <option value={String(ms)}>{purgeAgeLabel(ms)}</option>
            ))}
          </select>
        </label>
        <button type="submit" class="danger" data-action="purge">
          Purge…
        </button>
      </form>
      <p class="note">Dead and active messages are never purged. You confirm on the next page.</p>
    </section>
  )
}

/** The confirmation step: says exactly what goes, and POSTs only when confirmed. */
export function PurgeConfirm(props: { v: ViewContext; queue: string; olderThanMs: number }) {
  const { v, queue } = props
  const back = `${v.base}/queues/${encodeURIComponent(queue)}?state=archived`
  return (
    <section class="panel">
      <p>
        Delete <strong>{purgeAgeLabel(props.olderThanMs)}</strong> from queue{' '}
        <strong class="mono">{queue}</strong>? This cannot be undone: the messages cannot be
        replayed afterwards.
      </p>
      <div class="actions">
        <form
          method="post"
          action={`${v.base}/queues/${encodeURIComponent(queue)}/purge`}
          class="inline"
        >
          <input type="hidden" name="_csrf" value={v.csrf} />
          <input type="hidden" name="olderThanMs" value={String(props.olderThanMs)} />
          <input type="hidden" name="confirm" value="yes" />
          <button type="submit" class="danger" data-action="confirm-purge">
            Yes, purge
          </button>
        </form>
        <a href={back}>Cancel</a>
      </div>
    </section>
  )
}
