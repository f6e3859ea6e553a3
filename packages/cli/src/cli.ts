#!/usr/bin/env node
import module from 'node:module'

// Cache compiled code between runs (Node ≥ 22.1): a CLI is started often and lives briefly.
module.enableCompileCache?.()
const { run } = await import('./run.js')

// Ends quietly when the reader of a pipe goes away (`pgqrs messages jobs | head -3`).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error
})

process.exitCode = await run(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  stderrIsTTY: process.stderr.isTTY === true,
  stdoutIsTTY: process.stdout.isTTY === true,
  terminalSize: () => ({ columns: process.stdout.columns, rows: process.stdout.rows }),
})
