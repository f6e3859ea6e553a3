#!/usr/bin/env node
// The root `pnpm test`: runs every package's vitest suite through turbo, then sums the JSON reports
// that each package's vitest.config.ts writes to `.vitest-report.json` and ends with ONE line
// `N passed, N failed, N skipped` (CI reads that line, not vitest's own summary).
//
// Exit status: non-zero when turbo failed, any test (or test file) failed, or no test ran at all.
// Extra arguments are passed to turbo, e.g. `pnpm test --filter=@pgqrs/core`.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const WORKSPACE_DIRS = ['packages', 'apps']
/** Workspace packages that are a folder of their own (see pnpm-workspace.yaml). */
const SINGLE_DIRS = ['docs', 'bench']
const REPORT = '.vitest-report.json'
/** The conformance suite prefixes its tests with the backend name. */
const BACKENDS = ['postgres', 'sqlite', 'turso']

/** Every workspace package directory (packages/*, apps/*, docs, bench) that has a package.json. */
function workspacePackages() {
  const dirs = []
  for (const parent of WORKSPACE_DIRS) {
    const abs = path.join(ROOT, parent)
    if (!fs.existsSync(abs)) continue
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
      if (entry.isDirectory() && fs.existsSync(path.join(abs, entry.name, 'package.json'))) {
        dirs.push(path.join(abs, entry.name))
      }
    }
  }
  for (const single of SINGLE_DIRS) {
    if (fs.existsSync(path.join(ROOT, single, 'package.json'))) dirs.push(path.join(ROOT, single))
  }
  return dirs.sort()
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'))
}

function packageName(dir) {
  try {
    return readJson(path.join(dir, 'package.json')).name ?? path.relative(ROOT, dir)
  } catch {
    return path.relative(ROOT, dir)
  }
}

function hasTestScript(dir) {
  try {
    return typeof readJson(path.join(dir, 'package.json')).scripts?.test === 'string'
  } catch {
    return false
  }
}

/**
 * Counts tests per backend: the conformance suite names its outer describe `postgres: store
 * conformance`, so a test belongs to a backend when a title of its chain starts with `postgres:`
 * followed by a space (a DSN such as `postgres://…` in a test name does not count).
 */
function backendCounts(report) {
  const counts = Object.fromEntries(BACKENDS.map((b) => [b, { ran: 0, skipped: 0 }]))
  const prefix = Object.fromEntries(BACKENDS.map((b) => [b, new RegExp(`^${b}:(\\s|$)`)]))
  for (const file of report.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      const titles = [...(t.ancestorTitles ?? []), t.title ?? '']
      const backend = BACKENDS.find((b) => titles.some((s) => prefix[b].test(s)))
      if (!backend) continue
      if (t.status === 'passed' || t.status === 'failed') counts[backend].ran++
      else counts[backend].skipped++
    }
  }
  return counts
}

function formatBackends(counts, all = true) {
  return BACKENDS.filter((b) => all || counts[b].ran + counts[b].skipped > 0)
    .map((b) => {
      const { ran, skipped } = counts[b]
      return `${b}: ${ran} ran${skipped ? ` (${skipped} skipped)` : ''}`
    })
    .join(', ')
}

// 1. Remove stale reports, so that only the reports of this run are counted.
const packages = workspacePackages()
for (const dir of packages) fs.rmSync(path.join(dir, REPORT), { force: true })

// 2. Run every package's `test` task, one at a time, continuing past failures.
const startedAt = Date.now()
const args = [
  'exec',
  'turbo',
  'run',
  'test',
  '--concurrency=1',
  '--continue',
  ...process.argv.slice(2),
]
console.log(`> pnpm ${args.join(' ')}`)
const spawnOptions = {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
}
let turbo = spawnSync('pnpm', args, spawnOptions)
// pnpm not on PATH (unusual): use the pnpm that started this script, if any
const execPath = process.env.npm_execpath
if (turbo.error?.code === 'ENOENT' && execPath && /pnpm/.test(path.basename(execPath))) {
  turbo = /\.[cm]?js$/.test(execPath)
    ? spawnSync(process.execPath, [execPath, ...args], spawnOptions)
    : spawnSync(execPath, args, spawnOptions)
}
let turboOk = turbo.status === 0
if (turbo.error) console.error(`run-tests: could not start pnpm: ${turbo.error.message}`)
else if (turbo.signal) console.error(`run-tests: turbo was killed by ${turbo.signal}`)
else if (!turboOk) console.error(`run-tests: turbo exited with status ${turbo.status}`)

// 3. Sum the reports written by this run.
const totals = { passed: 0, failed: 0, skipped: 0 }
const backendTotals = Object.fromEntries(BACKENDS.map((b) => [b, { ran: 0, skipped: 0 }]))
let reports = 0
console.log('')
console.log('Test results by package:')
for (const dir of packages) {
  const name = packageName(dir)
  const file = path.join(dir, REPORT)
  if (!fs.existsSync(file)) {
    // with a --filter, packages outside it are expected to have no report
    if (hasTestScript(dir) && process.argv.length <= 2) {
      console.log(`  ${name}: no ${REPORT} written (its tests did not run)`)
    }
    continue
  }
  let report
  try {
    report = readJson(file)
  } catch (err) {
    console.log(`  ${name}: unreadable ${REPORT}: ${err.message}`)
    turboOk = false
    continue
  }
  if (fs.statSync(file).mtimeMs < startedAt - 1000) {
    console.log(`  ${name}: ignoring a ${REPORT} older than this run`)
    continue
  }
  reports++
  const passed = report.numPassedTests ?? 0
  let failed = report.numFailedTests ?? 0
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  // A test file that failed to load has no failed test: count it as one failure so it shows.
  const brokenFiles = (report.testResults ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((t) => t.status === 'failed'),
  )
  failed += brokenFiles.length
  totals.passed += passed
  totals.failed += failed
  totals.skipped += skipped
  const files = (report.testResults ?? []).length
  const broken = brokenFiles.length
    ? `; ${brokenFiles.length} file(s) failed to run`
    : files === 0
      ? '; no test files, so vitest failed'
      : ''
  console.log(
    `  ${name}: ${passed} passed, ${failed} failed, ${skipped} skipped (${files} files${broken})`,
  )
  for (const f of brokenFiles) {
    const msg = String(f.message ?? '').split('\n')[0]
    console.log(`    ${path.relative(ROOT, f.name ?? '')}: ${msg}`)
  }
  const counts = backendCounts(report)
  if (BACKENDS.some((b) => counts[b].ran + counts[b].skipped > 0)) {
    console.log(`    backends: ${formatBackends(counts, false)}`)
    for (const b of BACKENDS) {
      backendTotals[b].ran += counts[b].ran
      backendTotals[b].skipped += counts[b].skipped
    }
  }
}
if (reports === 0) console.log('  (no reports found)')
if (BACKENDS.some((b) => backendTotals[b].ran + backendTotals[b].skipped > 0)) {
  console.log(`Conformance by backend: ${formatBackends(backendTotals)}`)
}

const ran = totals.passed + totals.failed
if (ran === 0) console.log('run-tests: no test ran')
// The last line, alone: CI parses it.
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
process.exitCode = turboOk && totals.failed === 0 && ran > 0 ? 0 : 1
