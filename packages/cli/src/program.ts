import { Command, Option } from 'commander'
import { registerDashboard } from './commands/dashboard.js'
import { registerDlq } from './commands/dlq.js'
import { registerInstall } from './commands/install.js'
import { registerMessages } from './commands/messages.js'
import { registerQueue } from './commands/queue.js'
import { registerRuns } from './commands/runs.js'
import { registerSchedules } from './commands/schedules.js'
import { registerStats } from './commands/stats.js'
import { registerWorkers } from './commands/workers.js'
import type { CliContext } from './context.js'
import { FORMATS } from './output.js'
import { cliVersion } from './version.js'

/**
 * The `pgqrs` command tree. Commander errors are thrown (never `process.exit`), output goes to the
 * context's writers, and the settings are made before the subcommands are added, which inherit them.
 */
export function createProgram(ctx: CliContext): Command {
  const program = new Command('pgqrs')
    .description('Operate pgqrs queues, workers and workflow runs (Postgres, SQLite or Turso)')
    .exitOverride()
    .configureOutput({
      writeOut: ctx.io.stdout,
      writeErr: ctx.io.stderr,
      outputError: (text, write) => write(text.replace(/^error: /, 'pgqrs: ')),
    })
    .showHelpAfterError()
    .allowExcessArguments(false)
    .configureHelp({ showGlobalOptions: true })
    .version(cliVersion(), '-V, --version', 'print the version')
    .addOption(
      new Option(
        '--dsn <url>',
        'database URL: postgres://…, sqlite:///path.db, turso:///path.db, libsql://… (default: $PGQRS_DSN)',
      ),
    )
    .addOption(
      new Option(
        '--schema <name>',
        'Postgres schema of the pgqrs tables (default: $PGQRS_SCHEMA, else pgqrs)',
      ),
    )
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 error (one line on stderr), 2 usage error.\n' +
        'Environment: PGQRS_DSN, PGQRS_SCHEMA, PGQRS_CONNECT_TIMEOUT_MS, PGQRS_MAX_CONNECTIONS, …',
    )

  registerInstall(program, ctx)
  registerQueue(program, ctx)
  registerMessages(program, ctx)
  registerDlq(program, ctx)
  registerWorkers(program, ctx)
  registerRuns(program, ctx)
  registerSchedules(program, ctx)
  registerStats(program, ctx)
  registerDashboard(program, ctx)
  return program
}
