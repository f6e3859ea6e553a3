export { createDashboard, type Dashboard } from './dashboard.js'
export {
  DASHBOARD_DEFAULTS,
  type DashboardConfig,
  type DashboardOptions,
  resolveDashboardConfig,
} from './dashboard-config.js'
export {
  storeSource,
  type DashboardSource,
  type MessageAttempt,
  type MessageListState,
  type RunStatusCounts,
} from './source.js'
export { toNodeHandler, type NodeHandler } from './node-handler.js'
export {
  MetricsSampler,
  ratesBetween,
  type MetricsSample,
  type RatePoint,
  type SamplerOptions,
} from './sampler.js'
export { runCounts, type RunCounts, RUN_COUNT_SAMPLE } from './run-counts.js'
