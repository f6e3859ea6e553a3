import type {
  EventRecord,
  QueueMessage,
  QueueRecord,
  RunRecord,
  RunStatus,
  StepRecord,
  StepStatus,
  WorkerRecord,
  WorkerStatus,
  WorkflowRecord,
} from '@pgqrs/core'

/** The only place where rows become domain objects. @internal */
export type Row = Record<string, unknown>

/** Columns of `pgqrs_messages`, shared with `pgqrs_archive` (which adds `archived_at`, `dead_at`). @internal */
export const MESSAGE_COLUMNS = [
  'id',
  'queue_id',
  'payload',
  'priority',
  'enqueued_at',
  'visible_at',
  'attempts',
  'max_attempts',
  'lease',
  'consumer_id',
  'producer_id',
  'dedupe_key',
  'last_error',
  'dequeued_at',
  'timeout_ms',
] as const

/**
 * Run columns with table alias `alias` (and the workflow name from alias `w`), JSON columns
 * written by the family's `json(column)`. @internal
 */
export function runColumnList(
  alias: string,
  withWorkflow: boolean,
  json: (column: string) => string,
): string {
  return [
    `${alias}.id`,
    `${alias}.workflow_id`,
    ...(withWorkflow ? ['w.name as workflow_name'] : []),
    `${alias}.message_id`,
    `${alias}.status`,
    json('input'),
    json('output'),
    json('error'),
    `${alias}.idempotency_key`,
    `${alias}.wake_at`,
    `${alias}.deadline_at`,
    `${alias}.version`,
    `${alias}.parent_id`,
    `${alias}.parent_step`,
    `${alias}.created_at`,
    `${alias}.updated_at`,
    `${alias}.started_at`,
    `${alias}.completed_at`,
  ].join(', ')
}

/** Step columns with table alias `alias`, JSON columns written by `json(column)`. @internal */
export function stepColumnList(alias: string, json: (column: string) => string): string {
  return [
    `${alias}.id`,
    `${alias}.run_id`,
    `${alias}.step_key`,
    `${alias}.status`,
    json('output'),
    json('error'),
    `${alias}.retry_count`,
    `${alias}.retry_at`,
    `${alias}.created_at`,
    `${alias}.started_at`,
    `${alias}.completed_at`,
  ].join(', ')
}

/** Event columns with table alias `alias`, JSON columns written by `json(column)`. @internal */
export function eventColumnList(alias: string, json: (column: string) => string): string {
  return [
    `${alias}.id`,
    `${alias}.run_id`,
    `${alias}.name`,
    json('payload'),
    `${alias}.idempotency_key`,
    `${alias}.created_at`,
    `${alias}.consumed_at`,
    `${alias}.consumed_by`,
  ].join(', ')
}

/** bigint (pg returns int8 as a string), bigint or number → number. @internal */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v)
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v)
}

/**
 * A timestamptz (`Date`) or epoch ms (number) → `Date`. Postgres sends message timestamps as float
 * epoch ms with microseconds (`columns.ts`), whose float error is below 0.0003 ms: adding 0.0005
 * before truncating to the millisecond gives exactly the millisecond the timestamp is in, as the
 * driver's own parser does. @internal
 */
export function date(v: unknown): Date {
  if (v instanceof Date) return v
  const ms = num(v)
  return new Date(Number.isInteger(ms) ? ms : Math.floor(ms + 0.0005))
}

function dateOrNull(v: unknown): Date | null {
  return v === null || v === undefined ? null : date(v)
}

/** JSON text → value; SQL NULL → undefined (so a stored JSON null stays null). @internal */
export function json(v: unknown): unknown {
  if (v === null || v === undefined) return undefined
  return typeof v === 'string' ? JSON.parse(v) : v
}

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v)
}

/** @internal */
export function toQueue(r: Row): QueueRecord {
  return { id: num(r.id), name: String(r.name), createdAt: date(r.created_at) }
}

/** @internal */
export function toMessage<T = unknown>(r: Row, queue?: string): QueueMessage<T> {
  const m = baseMessage<T>(r, queue)
  // Settled messages carry their outcome (the archive's columns; see the families' `columns.message`).
  if (m.archivedAt === null && m.deadAt === null) return m
  const result = json(r.result)
  return {
    ...m,
    ...(result === undefined ? {} : { result }),
    startedAt: dateOrNull(r.started_at),
    finishedAt: m.archivedAt ?? m.deadAt,
  }
}

function baseMessage<T>(r: Row, queue?: string): QueueMessage<T> {
  return {
    id: num(r.id),
    queueId: num(r.queue_id),
    queue: queue ?? String(r.queue_name),
    payload: JSON.parse(String(r.payload)) as T,
    priority: num(r.priority),
    enqueuedAt: date(r.enqueued_at),
    visibleAt: date(r.visible_at),
    attempts: num(r.attempts),
    maxAttempts: num(r.max_attempts),
    lease: str(r.lease),
    consumerId: numOrNull(r.consumer_id),
    producerId: numOrNull(r.producer_id),
    dedupeKey: str(r.dedupe_key),
    lastError: str(r.last_error),
    dequeuedAt: dateOrNull(r.dequeued_at),
    archivedAt: dateOrNull(r.archived_at),
    deadAt: dateOrNull(r.dead_at),
    timeoutMs: numOrNull(r.timeout_ms),
  }
}

/** @internal */
export function toWorker(r: Row): WorkerRecord {
  return {
    id: num(r.id),
    name: String(r.name),
    queueId: numOrNull(r.queue_id),
    hostname: String(r.hostname),
    pid: num(r.pid),
    instance: str(r.instance),
    status: String(r.status) as WorkerStatus,
    startedAt: date(r.started_at),
    heartbeatAt: date(r.heartbeat_at),
    shutdownAt: dateOrNull(r.shutdown_at),
  }
}

/** @internal */
export function toWorkflow(r: Row): WorkflowRecord {
  return {
    id: num(r.id),
    name: String(r.name),
    queueId: num(r.queue_id),
    createdAt: date(r.created_at),
  }
}

/** @internal */
export function toRun(r: Row): RunRecord {
  return {
    id: num(r.id),
    workflowId: num(r.workflow_id),
    workflow: String(r.workflow_name),
    messageId: num(r.message_id),
    status: String(r.status) as RunStatus,
    input: json(r.input),
    output: json(r.output),
    error: json(r.error),
    idempotencyKey: str(r.idempotency_key),
    wakeAt: dateOrNull(r.wake_at),
    deadline: dateOrNull(r.deadline_at),
    version: r.version === null || r.version === undefined ? 1 : num(r.version),
    parentId: r.parent_id === null || r.parent_id === undefined ? null : num(r.parent_id),
    parentStep: str(r.parent_step),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    startedAt: dateOrNull(r.started_at),
    completedAt: dateOrNull(r.completed_at),
  }
}

/** @internal */
export function toStep(r: Row): StepRecord {
  return {
    id: num(r.id),
    runId: num(r.run_id),
    stepKey: String(r.step_key),
    status: String(r.status) as StepStatus,
    output: json(r.output),
    error: json(r.error),
    retryCount: num(r.retry_count),
    retryAt: dateOrNull(r.retry_at),
    createdAt: date(r.created_at),
    startedAt: dateOrNull(r.started_at),
    completedAt: dateOrNull(r.completed_at),
  }
}

/** A row of `pgqrs_events` as an {@link EventRecord}. @internal */
export function toEvent(r: Row): EventRecord {
  return {
    id: num(r.id),
    runId: num(r.run_id),
    name: String(r.name),
    payload: json(r.payload),
    idempotencyKey: r.idempotency_key === null ? null : String(r.idempotency_key),
    createdAt: date(r.created_at),
    consumedAt: dateOrNull(r.consumed_at),
    consumedBy: r.consumed_by === null ? null : String(r.consumed_by),
  }
}
