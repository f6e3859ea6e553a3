import { execFile } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, connect, type PgqrsConfig } from '../src/index.js'

const run = promisify(execFile)
const coreDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** What the child script prints for each DSN it was given. */
interface Outcome {
  dsn: string
  ok?: boolean
  result?: unknown
  name?: string
  code?: string
  field?: string
  message?: string
  isConfigError?: boolean
  causeCode?: string
}

const REPORT_SCRIPT = `
import { connect, ConfigError } from '@pgqrs/core'
const out = []
for (const dsn of process.argv.slice(2)) {
  try {
    const result = await connect(dsn, { leaseMs: 1234 })
    out.push({ dsn, ok: true, result })
  } catch (e) {
    out.push({ dsn, name: e.name, code: e.code, field: e.field, message: e.message,
      isConfigError: ConfigError.is(e), causeCode: e.cause?.code })
  }
}
console.log(JSON.stringify(out))
`

let tmp = ''
/** A project that has only @pgqrs/core installed (a real copy, not a link into the repo). */
let bare = ''
/** A project with @pgqrs/core and fake store packages. */
let fakes = ''

function write(file: string, text: string) {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
}

function fakePackage(root: string, name: string, index: string) {
  const dir = path.join(root, 'node_modules', name)
  write(
    path.join(dir, 'package.json'),
    JSON.stringify({ name, version: '0.0.0', type: 'module', exports: { '.': './index.js' } }),
  )
  write(path.join(dir, 'index.js'), index)
}

async function runScript(cwd: string, script: string, args: string[]) {
  // process.execPath is the Node that runs vitest (the repo's Node 24), not the system Node 20
  return run(process.execPath, [script, ...args], {
    cwd,
    timeout: 30_000,
    // no NODE_PATH: pnpm sets one for scripts, and it would let require() find the workspace's stores
    env: { ...process.env, NODE_OPTIONS: '', NODE_PATH: '' },
  })
}

async function report(cwd: string, dsns: string[]): Promise<Outcome[]> {
  const { stdout } = await runScript(cwd, 'report.mjs', dsns)
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Outcome[]
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pgqrs-core-connect-'))
  // Build a fresh dist from src (what `pnpm build` produces), so the copy never lags the source.
  const built = path.join(tmp, 'core')
  fs.mkdirSync(built)
  fs.copyFileSync(path.join(coreDir, 'package.json'), path.join(built, 'package.json'))
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  await run(
    process.execPath,
    [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(built, 'dist')],
    {
      cwd: coreDir,
      timeout: 120_000,
    },
  )
  for (const name of ['bare', 'fakes']) {
    const root = path.join(tmp, name)
    fs.cpSync(built, path.join(root, 'node_modules', '@pgqrs', 'core'), { recursive: true })
    write(
      path.join(root, 'package.json'),
      JSON.stringify({ name: `app-${name}`, private: true, type: 'module' }),
    )
    write(path.join(root, 'report.mjs'), REPORT_SCRIPT)
  }
  bare = path.join(tmp, 'bare')
  fakes = path.join(tmp, 'fakes')
  write(
    path.join(bare, 'uncaught.mjs'),
    `import { connect } from '@pgqrs/core'\nawait connect('sqlite:///tmp/x.db')\n`,
  )
  fakePackage(
    fakes,
    '@pgqrs/store-sqlite',
    'export async function openStore(dsn, config) { return { backend: "fake-sqlite", dsn, config } }\n',
  )
  fakePackage(fakes, '@pgqrs/store-turso', 'export const nothing = 1\n')
  fakePackage(fakes, '@pgqrs/store-postgres', 'throw new Error("boom while loading the store")\n')
}, 120_000)

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

describe('connect() in a project without the store package', () => {
  it('runs on Node >= 22 and the copy is not a link into the repo', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22)
    const core = path.join(bare, 'node_modules', '@pgqrs', 'core')
    expect(fs.lstatSync(core).isSymbolicLink()).toBe(false)
    expect(fs.existsSync(path.join(core, 'dist', 'index.js'))).toBe(true)
    expect(fs.realpathSync(core).startsWith(tmp)).toBe(true)
  })

  it('connect("sqlite:///tmp/x.db") throws a ConfigError naming @pgqrs/store-sqlite and the install command', async () => {
    const [sqlite] = await report(bare, ['sqlite:///tmp/x.db'])
    expect(sqlite).toMatchObject({
      name: 'ConfigError',
      code: 'CONFIG',
      field: 'dsn',
      isConfigError: true,
    })
    expect(sqlite!.message).toContain('@pgqrs/store-sqlite')
    expect(sqlite!.message).toContain('pnpm add @pgqrs/store-sqlite')
    expect(sqlite!.causeCode).toBe('ERR_MODULE_NOT_FOUND')
  })

  it('names the right package for every backend', async () => {
    const out = await report(bare, [
      'postgres://u@127.0.0.1:5432/db',
      'postgresql://u@127.0.0.1/db',
      'sqlite::memory:',
      'turso:///tmp/x.db',
      'libsql://db-org.turso.io?authToken=t',
    ])
    expect(out.map((o) => [o.name, o.message?.match(/pnpm add (@pgqrs\/[\w-]+)/)?.[1]])).toEqual([
      ['ConfigError', '@pgqrs/store-postgres'],
      ['ConfigError', '@pgqrs/store-postgres'],
      ['ConfigError', '@pgqrs/store-sqlite'],
      ['ConfigError', '@pgqrs/store-turso'],
      ['ConfigError', '@pgqrs/store-turso'],
    ])
  })

  it('an uncaught failure prints the ConfigError and the install command', async () => {
    const err = await runScript(bare, 'uncaught.mjs', []).then(
      () => null,
      (e: { code?: number; stderr?: string }) => e,
    )
    expect(err).not.toBeNull()
    expect(err!.code).toBe(1)
    expect(err!.stderr).toContain('ConfigError')
    expect(err!.stderr).toContain('pnpm add @pgqrs/store-sqlite')
  })

  it('an unknown scheme fails the same way in that project, listing the schemes', async () => {
    const [out] = await report(bare, ['mysql://h/db'])
    expect(out).toMatchObject({ name: 'ConfigError', field: 'dsn' })
    expect(out!.message).toContain('postgres:, postgresql:, sqlite:, turso:, libsql:')
  })
})

describe('connect() with store packages installed', () => {
  it('loads the store package and passes the parsed DSN and the config', async () => {
    const [out] = await report(fakes, ['sqlite:///tmp/x.db'])
    expect(out).toEqual({
      dsn: 'sqlite:///tmp/x.db',
      ok: true,
      result: {
        backend: 'fake-sqlite',
        dsn: {
          backend: 'sqlite',
          scheme: 'sqlite',
          path: '/tmp/x.db',
          package: '@pgqrs/store-sqlite',
        },
        config: { leaseMs: 1234 },
      },
    })
  })

  it('refuses a store package without openStore()', async () => {
    const [out] = await report(fakes, ['turso:///tmp/x.db'])
    expect(out).toMatchObject({ name: 'ConfigError', isConfigError: true })
    expect(out!.message).toContain('@pgqrs/store-turso does not export openStore()')
  })

  it('passes through an error thrown while the store package loads (it is installed)', async () => {
    const [out] = await report(fakes, ['postgres://u@127.0.0.1/db'])
    expect(out).toMatchObject({ name: 'Error', message: 'boom while loading the store' })
  })
})

describe('connect() checks before loading anything', () => {
  it('rejects an unknown scheme with a ConfigError', async () => {
    await expect(connect('mysql://localhost/db')).rejects.toBeInstanceOf(ConfigError)
  })

  it('rejects a malformed DSN with a ConfigError', async () => {
    await expect(connect('postgres://user@[::1/db')).rejects.toMatchObject({
      code: 'CONFIG',
      field: 'dsn',
    })
  })

  it('rejects bad config with a ConfigError naming the field', async () => {
    await expect(connect('sqlite::memory:', { leaseMs: -1 })).rejects.toMatchObject({
      field: 'leaseMs',
    })
    await expect(connect('sqlite::memory:', { leasMs: 1 } as PgqrsConfig)).rejects.toMatchObject({
      name: 'ConfigError',
      field: 'leasMs',
    })
  })
})

describe('connect() in a strict layout, where @pgqrs/core cannot see its siblings', () => {
  it('finds the store package from the application directory', async () => {
    // core lives outside the app's node_modules chain (as in pnpm's .pnpm store with hoisting off)
    const strict = path.join(tmp, 'strict-app')
    const vendored = path.join(tmp, 'elsewhere', 'core')
    fs.cpSync(path.join(bare, 'node_modules', '@pgqrs', 'core'), vendored, { recursive: true })
    fakePackage(
      strict,
      '@pgqrs/store-sqlite',
      'export async function openStore(dsn) { return { backend: "strict-fake", path: dsn.path } }\n',
    )
    write(path.join(strict, 'package.json'), JSON.stringify({ name: 'strict-app', type: 'module' }))
    const coreUrl = pathToFileURL(path.join(vendored, 'dist', 'index.js')).href
    write(
      path.join(strict, 'main.mjs'),
      `const { connect } = await import(${JSON.stringify(coreUrl)})\nconsole.log(JSON.stringify(await connect('sqlite:///tmp/s.db')))\n`,
    )
    const { stdout } = await runScript(strict, 'main.mjs', [])
    expect(JSON.parse(stdout.trim())).toEqual({ backend: 'strict-fake', path: '/tmp/s.db' })
  })
})
