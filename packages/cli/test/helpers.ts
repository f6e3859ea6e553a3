import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SqliteStore } from '@pgqrs/store-sqlite'
import { expect } from 'vitest'

/**
 * The migrations this pgqrs knows, oldest first (the same on every family): what `install`
 * applies and `verify` expects.
 */
export const MIGRATIONS: readonly string[] = (() => {
  const store = new SqliteStore({ path: ':memory:', logger: false })
  const names = store.knownMigrations()
  void store.close()
  return names
})()
/** The newest migration: the schema version `install` reports. */
export const SCHEMA_VERSION: string = MIGRATIONS.at(-1)!

/** The built binary (test/global-setup.ts builds it). */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

/** What one `pgqrs` process did. */
export interface CliResult {
  /** The exit code; null when it was killed after `timeoutMs` (it hung). */
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The test process's environment without PGQRS_* variables, so only what a test sets counts. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('PGQRS_')) env[k] = v
  }
  return env
}

/**
 * Runs `node dist/cli.js ...args` and collects its output. A process that does not exit within
 * `timeoutMs` (e.g. a store left open keeps the event loop alive) is killed: `code` is then null.
 */
export function pgqrs(
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...cleanEnv(), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 10_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Runs `pgqrs`, expects exit 0 and an empty stderr, returns stdout. */
export async function ok(args: readonly string[], env?: Record<string, string>): Promise<string> {
  const r = await pgqrs(args, { env })
  expect(r, `pgqrs ${args.join(' ')}`).toMatchObject({ code: 0, stderr: '' })
  return r.stdout
}

/** Runs `pgqrs ... --format json`, expects success, returns the one JSON document it printed. */
export async function okJson<T = any>(
  args: readonly string[],
  env?: Record<string, string>,
): Promise<T> {
  return JSON.parse(await ok([...args, '--format', 'json'], env)) as T
}

/** Expects a runtime error: exit 1, nothing on stdout, exactly one line `pgqrs: …` on stderr. */
export function expectError(r: CliResult, message: RegExp): void {
  expect(r.code, r.stderr).toBe(1)
  expect(r.stdout).toBe('')
  expect(r.stderr).toMatch(/^pgqrs: [^\n]+\n$/)
  expect(r.stderr).toMatch(message)
}

/** Expects a usage error: exit 2, nothing on stdout, the message and a `Usage:` block on stderr. */
export function expectUsage(r: CliResult, message: RegExp, usage: RegExp = /Usage: pgqrs/): void {
  expect(r.code, r.stderr).toBe(2)
  expect(r.stdout).toBe('')
  expect(r.stderr).toMatch(message)
  expect(r.stderr).toMatch(usage)
}

/** A fresh temp directory (never `:memory:`), and a function that removes it. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pgqrs-cli-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A pgqrs bound to one DSN (and global options): `cli` expects success, `cliJson` parses, `cliRaw` returns the result. */
export function boundCli(globals: readonly string[]) {
  return {
    cli: (...args: string[]) => ok([...globals, ...args]),
    cliJson: <T = any>(...args: string[]) => okJson<T>([...globals, ...args]),
    cliRaw: (...args: string[]) => pgqrs([...globals, ...args]),
  }
}
