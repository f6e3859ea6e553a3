/**
 * vitest globalSetup: builds the package (`tsc -p tsconfig.build.json`) once, so every test runs
 * the code that would be published, `dist/`, never a stale copy.
 */
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export default function setup(): void {
  const cwd = fileURLToPath(new URL('..', import.meta.url))
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd,
    encoding: 'utf8',
  })
  if (r.status !== 0) {
    throw new Error(`building @pgqrs/dashboard failed:\n${r.stdout}${r.stderr}${r.error ?? ''}`)
  }
}
