import type { MessageState, QueueMessage } from 'pgqrs'

/**
 * Where a message is in its life, from its record: archived and dead are final; a message not yet
 * visible is leased (someone holds it) or delayed (waiting for its time or a retry); the rest is
 * pending. `now` should be close to the database clock.
 */
export function jobState(msg: QueueMessage, now = Date.now()): MessageState {
  if (msg.archivedAt) return 'archived'
  if (msg.deadAt) return 'dead'
  if (msg.visibleAt.getTime() > now) return msg.lease ? 'leased' : 'delayed'
  return 'pending'
}
