import type { QueueMessage } from '@pgqrs/core'

/** A duration in words: `850 ms`, `3.2 s`, `4 min 10 s`, `2 h 5 min`, `3 d 4 h`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  const abs = Math.abs(ms)
  if (abs < 1_000) return `${Math.round(ms)} ms`
  if (abs < 60_000) return `${(ms / 1_000).toFixed(abs < 10_000 ? 1 : 0)} s`
  const s = Math.round(abs / 1_000)
  const sign = ms < 0 ? '-' : ''
  if (s < 3_600) return `${sign}${Math.floor(s / 60)} min ${s % 60} s`
  if (s < 86_400) return `${sign}${Math.floor(s / 3_600)} h ${Math.floor((s % 3_600) / 60)} min`
  return `${sign}${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3_600)} h`
}

/** How long ago `date` was (`3 s ago`), or how far ahead (`in 2 min 0 s`); `—` for null. */
export function ago(date: Date | null | undefined, now = Date.now()): string {
  if (!date) return '—'
  const ms = now - date.getTime()
  return ms >= 0 ? `${duration(ms)} ago` : `in ${duration(-ms)}`
}

/** An instant as ISO 8601 (UTC), for `title` attributes and `<time datetime>`; `''` for null. */
export function iso(date: Date | null | undefined): string {
  return date ? date.toISOString() : ''
}

/** A count with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString('en-US')
}

/** A JSON value on one line, cut at `max` characters (for table cells). */
export function preview(value: unknown, max = 80): string {
  if (value === undefined) return ''
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '')
  const line = text.replace(/\s+/g, ' ')
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

/** Largest JSON document shown whole on a page; longer ones are cut (the page says so). */
export const MAX_PRETTY = 64 * 1024

/** A JSON value pretty-printed, cut at {@link MAX_PRETTY} characters. */
export function pretty(value: unknown): { text: string; cut: boolean } {
  const text = value === undefined ? '' : (JSON.stringify(value, null, 2) ?? '')
  return text.length > MAX_PRETTY
    ? { text: text.slice(0, MAX_PRETTY), cut: true }
    : { text, cut: false }
}

/** Where a message is in its life; the dashboard's clock stands in for the database clock. */
export type MessageView = 'pending' | 'in flight' | 'delayed' | 'archived' | 'dead'

/** The state of message `m` as the pages name it. */
export function messageState(m: QueueMessage, now = Date.now()): MessageView {
  if (m.deadAt) return 'dead'
  if (m.archivedAt) return 'archived'
  if (m.visibleAt.getTime() > now) return m.lease ? 'in flight' : 'delayed'
  return 'pending'
}

/** A CSS-class-safe name for a status (`in flight` → `in-flight`, `CANCELLING` → `cancelling`). */
export function statusClass(status: string): string {
  return `status-${status.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`
}
