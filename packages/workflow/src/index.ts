export {
  TransientStepError,
  NonRetryableError,
  PausedError,
  pauseError,
  CancelledError,
  WorkflowFailedError,
  serialiseError,
  SuspensionSwallowedError,
  NonDeterminismError,
  ChildWorkflowFailedError,
  type StoredError,
} from './errors.js'
export { ChildRun, type StartChildOptions } from './child.js'
export type { WorkflowContext } from './context.js'
export { type StepRetryPolicy, DEFAULT_STEP_RETRY, resolveRetry, retryDelay } from './retry.js'
export {
  Run,
  workflowStep,
  type StepOptions,
  type StepAcquisition,
  type StepGuard,
  type StepContext,
  type StepFunction,
  type WaitForEventOptions,
} from './run.js'
export { sendEvent } from './events.js'
export { executeDelivery, type DeliveryOptions, type WorkflowBody } from './delivery.js'
export { RunHandle } from './handle.js'
export {
  defineWorkflow,
  type WorkflowDefinition,
  type WorkflowDefinitionOptions,
  type StartOptions,
  type InputSchema,
} from './define.js'
export { workflowWorker, type WorkflowWorker } from './worker.js'
export { workflow, run, workflowHandler, WorkflowBuilder } from './builders.js'
export { endRun } from './shortcuts.js'
export { observeRuns, type ObserveRunsOptions } from './telemetry.js'
