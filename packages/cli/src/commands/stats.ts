import { admin } from '@pgqrs/queue'
import type { Command } from 'commander'
import type { CliContext } from '../context.js'
import { recordTable } from '../table.js'

/** `pgqrs stats`. */
export function registerStats(program: Command, ctx: CliContext): void {
  program
    .command('stats')
    .description('totals over every queue and worker, and the schema version')
    .action((_opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, 'reading stats', async (store) => {
        const stats = await admin(store).systemStats()
        return { json: stats, table: () => recordTable({ ...stats }) }
      }),
    )
}
