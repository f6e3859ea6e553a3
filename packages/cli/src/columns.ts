import type {
  EventRecord,
  QueueMessage,
  QueueMetrics,
  QueueRecord,
  RunRecord,
  ScheduleRecord,
  StepRecord,
  WorkerRecord,
} from '@pgqrs/core'
import { type Column, jsonText, resultText } from './table.js'

/**
 * Where a message is in its life, from its fields (the local clock stands in for the database
 * clock, so a message at the edge of its lease or delay may show one state early or late).
 */
export function messageState(m: QueueMessage, now = Date.now()): string {
  if (m.deadAt) return 'dead'
  if (m.archivedAt) return 'archived'
  if (m.visibleAt.getTime() > now) return m.lease ? 'leased' : 'delayed'
  return 'pending'
}

/** Columns of `queue list` and `queue get`. */
export const QUEUE_COLUMNS: readonly Column<QueueRecord>[] = [
  { header: 'id', value: (q) => q.id },
  { header: 'name', value: (q) => q.name },
  { header: 'created at', value: (q) => q.createdAt },
]

/** Columns of `queue metrics`. */
export const METRICS_COLUMNS: readonly Column<QueueMetrics>[] = [
  { header: 'queue', value: (m) => m.name },
  { header: 'pending', value: (m) => m.pending },
  { header: 'leased', value: (m) => m.leased },
  { header: 'delayed', value: (m) => m.delayed },
  { header: 'archived', value: (m) => m.archived },
  { header: 'dead', value: (m) => m.dead },
  { header: 'oldest pending (ms)', value: (m) => m.oldestPendingAgeMs },
  { header: 'newest enqueued at', value: (m) => m.newestEnqueuedAt },
]

/** Columns of `messages` and `dlq list`. */
export function messageColumns(options: { dead?: boolean } = {}): Column<QueueMessage>[] {
  return [
    { header: 'id', value: (m) => m.id },
    { header: 'state', value: (m) => messageState(m) },
    { header: 'priority', value: (m) => m.priority },
    { header: 'attempts', value: (m) => `${m.attempts}/${m.maxAttempts}` },
    options.dead
      ? { header: 'dead at', value: (m) => m.deadAt }
      : { header: 'visible at', value: (m) => m.visibleAt },
    { header: 'enqueued at', value: (m) => m.enqueuedAt },
    { header: 'payload', value: (m) => jsonText(m.payload) },
    { header: 'last error', value: (m) => m.lastError },
  ]
}

/** Columns of `workers list`. */
export const WORKER_COLUMNS: readonly Column<WorkerRecord>[] = [
  { header: 'id', value: (w) => w.id },
  { header: 'name', value: (w) => w.name },
  { header: 'status', value: (w) => w.status },
  { header: 'queue id', value: (w) => w.queueId },
  { header: 'host', value: (w) => w.hostname },
  { header: 'pid', value: (w) => w.pid },
  { header: 'heartbeat at', value: (w) => w.heartbeatAt },
  { header: 'started at', value: (w) => w.startedAt },
]

/** Columns of `runs list`. */
export const RUN_COLUMNS: readonly Column<RunRecord>[] = [
  { header: 'id', value: (r) => r.id },
  { header: 'workflow', value: (r) => r.workflow },
  { header: 'status', value: (r) => r.status },
  { header: 'created at', value: (r) => r.createdAt },
  { header: 'updated at', value: (r) => r.updatedAt },
  { header: 'input', value: (r) => jsonText(r.input) },
  { header: 'output / error', value: (r) => resultText(r.error ?? r.output) },
]

/** Columns of the steps of `runs show`. */
export const STEP_COLUMNS: readonly Column<StepRecord>[] = [
  { header: 'step', value: (s) => s.stepKey },
  { header: 'status', value: (s) => s.status },
  { header: 'retries', value: (s) => s.retryCount },
  { header: 'retry at', value: (s) => s.retryAt },
  { header: 'started at', value: (s) => s.startedAt },
  { header: 'completed at', value: (s) => s.completedAt },
  { header: 'output / error', value: (s) => resultText(s.error ?? s.output) },
]

/** Columns of `runs events` (and the events of `runs show`). */
export const EVENT_COLUMNS: readonly Column<EventRecord>[] = [
  { header: 'id', value: (e) => e.id },
  { header: 'name', value: (e) => e.name },
  { header: 'sent at', value: (e) => e.createdAt },
  { header: 'taken by', value: (e) => e.consumedBy ?? '(pending)' },
  { header: 'idempotency key', value: (e) => e.idempotencyKey },
  { header: 'payload', value: (e) => jsonText(e.payload) },
]

/** Columns of `schedules list`. */
export const SCHEDULE_COLUMNS: readonly Column<ScheduleRecord>[] = [
  { header: 'name', value: (s) => s.name },
  { header: 'cron', value: (s) => s.cron },
  { header: 'timezone', value: (s) => s.timezone ?? 'UTC' },
  { header: 'target', value: (s) => `${s.kind} ${s.target}` },
  { header: 'status', value: (s) => (s.pausedAt ? 'paused' : 'running') },
  { header: 'next run at', value: (s) => (s.pausedAt ? null : s.nextRunAt) },
  { header: 'last tick at', value: (s) => s.lastTickAt },
  { header: 'overlap', value: (s) => s.overlap },
  { header: 'catch up', value: (s) => s.catchUp },
]
