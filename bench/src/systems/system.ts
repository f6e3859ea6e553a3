import type { Payload, Subject, SystemName, Target } from '../types.ts'

/** How a workload wants messages consumed. */
export interface ConsumeOptions {
  /** Independent consumers (fetch loops / workers / runners) in this process. */
  readonly consumers: number
  /** Messages fetched per query by each consumer; also each consumer's concurrency by default. */
  readonly batch: number
  /** Handlers at once per consumer (default `batch`). */
  readonly concurrency?: number
  /**
   * Messages fetched ahead per consumer while its handlers are busy: pgqrs `prefetch`,
   * graphile-worker `localQueue.size` (with batched completes). Default: none for pgqrs;
   * graphile-worker's batched configuration (`localQueue` of `batch`) when `batch` > 1.
   */
  readonly prefetch?: number
  /** Called when a message's handler starts (the handlers do nothing else). */
  onMessage(payload: Payload): void
}

/** Consumers that are running; `stop()` ends them and releases their connections. */
export interface Running {
  stop(): Promise<void>
}

/**
 * One queue system, driven the same way by every workload. An adapter opens what it needs lazily
 * and `close()` releases everything; the producer side uses its own connection (or instance), as
 * a separate service would.
 */
export interface QueueSystem {
  readonly name: SystemName
  /** Creates the system's tables in the target's (new) schema and the benchmark queue. */
  install(): Promise<void>
  /** Opens connections and starts the client, so that a measurement's clock excludes it. */
  connect(): Promise<void>
  /** Inserts `count` messages (`i` = `from` … `from + count - 1`) with the system's bulk insert. */
  fill(count: number, from?: number): Promise<void>
  /** Enqueues through the producer connection: the bulk call for several, the single one for one. */
  enqueue(payloads: readonly Payload[]): Promise<void>
  /** Starts consumers; resolves once they are running. */
  consume(options: ConsumeOptions): Promise<Running>
  /** Messages not acknowledged yet in the database (queued, leased or running). */
  remaining(): Promise<number>
  close(): Promise<void>
}

/** A system module: one file per system under `systems/`. */
export interface SystemModule {
  /** The installed version (read from its package.json). */
  version(): Promise<string>
  /** The configuration used, one markdown bullet per line, for the report. */
  readonly configuration: readonly string[]
  open(target: Target, subject: Subject): QueueSystem
}

/** Loads a system's module (only the one a child needs). */
export async function loadSystem(name: SystemName): Promise<SystemModule> {
  switch (name) {
    case 'pgqrs':
      return import('./pgqrs.ts')
    case 'pg-boss':
      return import('./pg-boss.ts')
    case 'graphile-worker':
      return import('./graphile-worker.ts')
  }
}
