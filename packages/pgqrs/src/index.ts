/**
 * pgqrs: a Postgres-native, library-only durable execution engine and job queue.
 * `import * as pgqrs from 'pgqrs'` gives `connect`, `admin`, the queue API and the workflow API.
 * Stores stay separate packages: install `@pgqrs/store-postgres`, `@pgqrs/store-sqlite` or
 * `@pgqrs/store-turso` for the backend you use.
 */
export * from '@pgqrs/core'
export * from '@pgqrs/queue'
export * from '@pgqrs/workflow'
