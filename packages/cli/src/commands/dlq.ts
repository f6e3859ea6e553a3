import { admin } from '@pgqrs/queue'
import type { Command } from 'commander'
import { messageColumns } from '../columns.js'
import type { CliContext } from '../context.js'
import { parsePositive } from '../parsers.js'
import { rowsTable } from '../table.js'
import { messageOutput } from './messages.js'

/** `pgqrs dlq list QUEUE` and `pgqrs dlq replay ID`. */
export function registerDlq(program: Command, ctx: CliContext): void {
  const dlq = program.command('dlq').description('dead letters: list them, replay one')

  dlq
    .command('list')
    .description('dead messages of a queue, oldest first')
    .argument('<queue>', 'queue name')
    .option('--limit <n>', 'at most this many', parsePositive, 100)
    .action((queue: string, opts: { limit: number }, cmd: Command) =>
      ctx.withStore(cmd, `listing dead letters of ${queue}`, async (store) => {
        const dead = await admin(store).deadLetters(queue, { limit: opts.limit })
        return { json: dead, table: () => rowsTable(dead, messageColumns({ dead: true })) }
      }),
    )

  dlq
    .command('replay')
    .description('bring a dead (or archived) message back under the same id, visible now')
    .argument('<id>', 'message id', parsePositive)
    .action((id: number, _opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, `replaying message ${id}`, async (store) =>
        messageOutput(await admin(store).replay(id)),
      ),
    )
}
