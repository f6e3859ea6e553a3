import { admin } from '@pgqrs/queue'
import type { Command } from 'commander'
import type { CliContext, GlobalOptions } from '../context.js'
import { parsePositive } from '../parsers.js'
import { recordTable } from '../table.js'

interface StatsOptions {
  readonly watch?: boolean
  readonly interval: number
}

/** `pgqrs stats [--watch [--interval ms]]`. */
export function registerStats(program: Command, ctx: CliContext): void {
  program
    .command('stats')
    .description('totals over every queue and worker, and the schema version')
    .option(
      '--watch',
      'show every queue, the workers and the runs, refreshed in place until Ctrl-C',
    )
    .option('--interval <ms>', 'refresh period of --watch', parsePositive, 2_000)
    .action((opts: StatsOptions, cmd: Command) =>
      ctx.withStore(cmd, 'reading stats', async (store, progress) => {
        if (opts.watch) {
          progress.stop()
          // loaded only for --watch (the dashboard package and log-update cost start-up time)
          const { watchStats } = await import('../stats-watch.js')
          const { format } = cmd.optsWithGlobals<GlobalOptions>()
          await watchStats(store, ctx.io, {
            intervalMs: Math.max(200, opts.interval),
            format,
            until: ctx.untilStopped(),
          })
          return { json: null, table: () => '', written: true }
        }
        const stats = await admin(store).systemStats()
        return { json: stats, table: () => recordTable({ ...stats }) }
      }),
    )
}
