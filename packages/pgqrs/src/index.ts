/**
 * pgqrs: a Postgres-native, library-only durable execution engine and job queue.
 * `import * as pgqrs from 'pgqrs'` gives `connect`, `admin`, the queue API and the workflow API.
 * Stores stay separate packages: install `@pgqrs/store-postgres`, `@pgqrs/store-sqlite` or
 * `@pgqrs/store-turso` for the backend you use.
 *
 * This is the curated public API: what users call and the types they name. Store authors use
 * `@pgqrs/core` (validation helpers, repository contracts) and `@pgqrs/store-kysely` directly.
 */

// Connecting and configuration
export { connect, configFromEnv, parseDsn, DEFAULT_CONFIG } from '@pgqrs/core'
export type {
  PgqrsConfig,
  ResolvedConfig,
  ValidationConfig,
  Logger,
  ParsedDsn,
} from '@pgqrs/core'

// Errors
export {
  PgqrsError,
  ConfigError,
  ConnectionError,
  SchemaNotInstalledError,
  SchemaVersionError,
  MigrationError,
  ValidationError,
  NotFoundError,
  QueueNotFoundError,
  WorkflowNotFoundError,
  ConflictError,
  QueueAlreadyExistsError,
  WorkerActiveError,
  LeaseLostError,
  WorkerStoppedError,
  InvalidStateTransitionError,
  StoreError,
  TimeoutError,
  PGQRS_ERROR_CODES,
} from '@pgqrs/core'
export type { PgqrsErrorCode } from '@pgqrs/core'

// Records and the store contract
export {
  BackoffStrategy,
  RUN_STATUSES,
  TERMINAL_RUN_STATUSES,
  WORKER_STATUSES,
  STEP_STATUSES,
} from '@pgqrs/core'
export type {
  JsonValue,
  QueueMessage,
  QueueRecord,
  LeaseRef,
  MessageState,
  WorkerRecord,
  WorkerStatus,
  WorkflowRecord,
  RunRecord,
  RunStatus,
  StepRecord,
  StepStatus,
  EventRecord,
  SendEventOptions,
  SentEvent,
  QueueMetrics,
  HandlerMetrics,
  ScheduleRecord,
  QueueLimits,
  RateLimit,
  ScheduleCatchUp,
  ScheduleOverlap,
  ScheduleKind,
  BackoffInput,
  BackoffFunction,
  WorkerHealth,
  Store,
  StoreCapabilities,
  StoreTransaction,
  StoreRepositories,
  SchemaStatus,
  Subscription,
} from '@pgqrs/core'

// Queue
export {
  admin,
  worker,
  Worker,
  SETTLED,
  Producer,
  Consumer,
  createProducer,
  createConsumer,
  enqueue,
  dequeue,
  producer,
  consumer,
  schedule,
  schedules,
  Scheduler,
  MAX_CATCH_UP,
} from '@pgqrs/queue'
export type {
  Admin,
  QueueLimitsInput,
  SystemStats,
  VerifyResult,
  Handler,
  HandlerContext,
  HandlerMap,
  WorkerEvents,
  WorkerState,
  WorkerOptions,
  EnqueueOptions,
  ConsumerDequeueOptions,
  ScheduleOptions,
  QueueScheduleOptions,
  WorkflowScheduleOptions,
  Schedules,
  SchedulerEvents,
  SchedulerOptions,
} from '@pgqrs/queue'

// Workflows
export {
  defineWorkflow,
  workflowWorker,
  RunHandle,
  sendEvent,
  TransientStepError,
  NonRetryableError,
  PausedError,
  pauseError,
  CancelledError,
  WorkflowFailedError,
  SuspensionSwallowedError,
  NonDeterminismError,
  ChildWorkflowFailedError,
  ChildRun,
  DEFAULT_STEP_RETRY,
  // the seeds' API
  workflow,
  run,
  workflowHandler,
  workflowStep,
  Run,
} from '@pgqrs/workflow'
export type {
  WorkflowContext,
  WorkflowDefinition,
  WorkflowDefinitionOptions,
  WorkflowWorker,
  StartOptions,
  InputSchema,
  StepOptions,
  StepRetryPolicy,
  StepAcquisition,
  StepGuard,
  StoredError,
  WaitForEventOptions,
  StartChildOptions,
} from '@pgqrs/workflow'
