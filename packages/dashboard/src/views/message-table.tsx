import type { QueueMessage } from '@pgqrs/core'
import { When } from './components.js'
import { duration, messageState, preview } from './format.js'
import { Status } from './components.js'
import { Action, type ViewContext } from './layout.js'

/** The actions a message allows in its state: replay (dead, archived) and cancel (waiting). */
export function MessageActions(props: { v: ViewContext; m: QueueMessage; canCancel: boolean }) {
  const { v, m } = props
  const state = messageState(m, v.now)
  return (
    <span class="actions">
      {state === 'dead' || state === 'archived' ? (
        <Action v={v} action={`/messages/${m.id}/replay`} label="Replay" name="replay" />
      ) : null}
      {props.canCancel && (state === 'pending' || state === 'delayed') ? (
        <Action v={v} action={`/messages/${m.id}/cancel`} label="Cancel" name="cancel" danger />
      ) : null}
    </span>
  )
}

/** The time that matters for a message in its state. */
function stateTime(m: QueueMessage): { label: string; date: Date | null } {
  if (m.deadAt) return { label: 'dead', date: m.deadAt }
  if (m.archivedAt) return { label: 'archived', date: m.archivedAt }
  return { label: 'visible', date: m.visibleAt }
}

/** How long the settling delivery took (settled messages whose start the store kept). */
function took(m: QueueMessage): string {
  return m.startedAt && m.finishedAt ? duration(m.finishedAt.getTime() - m.startedAt.getTime()) : ''
}

/** Messages of one queue as a table; the payload and the last error cut to one line. */
export function MessageTable(props: {
  v: ViewContext
  messages: readonly QueueMessage[]
  canCancel: boolean
}) {
  const { v } = props
  if (props.messages.length === 0) return <p class="muted">No messages in this state.</p>
  return (
    <table class="messages">
      <thead>
        <tr>
          <th class="num">Id</th>
          <th>State</th>
          <th class="num">Attempts</th>
          <th class="num">Priority</th>
          <th>Enqueued</th>
          <th>Visible / settled</th>
          <th class="num">Took</th>
          <th>Payload</th>
          <th>Result</th>
          <th>Last error</th>
          {v.readOnly ? null : <th>Actions</th>}
        </tr>
      </thead>
      <tbody>
        {props.messages.map((m) => {
          const t = stateTime(m)
          return (
            <tr data-message={String(m.id)}>
              <td class="num">
                <a href={`${v.base}/messages/${m.id}`}>{m.id}</a>
              </td>
              <td>
                <Status status={messageState(m, v.now)} />
              </td>
              <td class="num">{`${m.attempts}/${m.maxAttempts}`}</td>
              <td class="num">{m.priority}</td>
              <td>
                <When date={m.enqueuedAt} now={v.now} />
              </td>
              <td>
                <span class="muted">{t.label} </span>
                <When date={t.date} now={v.now} />
              </td>
              <td class="num">{took(m)}</td>
              <td class="mono">{preview(m.payload)}</td>
              <td class="mono">{m.result === undefined ? '' : preview(m.result, 40)}</td>
              <td class="mono">{m.lastError ? preview(m.lastError, 60) : ''}</td>
              {v.readOnly ? null : (
                <td>
                  <MessageActions v={v} m={m} canCancel={props.canCancel} />
                </td>
              )}
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
