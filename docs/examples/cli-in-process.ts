// The CLI's command logic, called in-process: the same commands, output and exit codes as `pgqrs`.
// run: once
// expect: install exited 0
// expect: /"schemaVersion": "\d{4}_\w+"/
import { tmpdir } from 'node:os'
import { run } from '@pgqrs/cli'

const dsn = `sqlite://${tmpdir()}/cli-in-process-${process.pid}.db`
const quiet = { stdout: () => {}, stderr: (s: string) => process.stderr.write(s) }
console.log(`install exited ${await run(['--dsn', dsn, 'install'], quiet)}`)

const code = await run(['--dsn', dsn, 'stats', '--format', 'json'], {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
})
if (code !== 0) process.exit(code)
