import type { ListMessagesOptions, QueueMessage } from '@pgqrs/core'
import { admin, Producer } from '@pgqrs/queue'
import { type Command, Option } from 'commander'
import { messageColumns, messageState } from '../columns.js'
import type { CliContext } from '../context.js'
import type { Output } from '../output.js'
import { parseInteger, parseJson, parseNonNegative, parsePositive } from '../parsers.js'
import { jsonText, recordTable, rowsTable } from '../table.js'

const STATES = ['active', 'pending', 'leased', 'delayed', 'archived', 'dead'] as const

/** One message: JSON as stored, a field table with its state next to its id. */
export function messageOutput(m: QueueMessage): Output {
  return {
    json: m,
    table: () => {
      const { id, ...rest } = m
      return recordTable({
        id,
        state: messageState(m),
        ...rest,
        payload: jsonText(m.payload),
        ...('result' in m ? { result: jsonText(m.result) } : {}),
      })
    },
  }
}

interface SendOptions {
  readonly delay?: number
  readonly priority?: number
  readonly dedupeKey?: string
  readonly maxAttempts?: number
  readonly timeout?: number
  readonly concurrencyKey?: string
}

/** `pgqrs send QUEUE JSON` and `pgqrs messages QUEUE`. */
export function registerMessages(program: Command, ctx: CliContext): void {
  program
    .command('send')
    .description('enqueue one JSON message and print it')
    .argument('<queue>', 'queue name (the queue must exist)')
    .argument('<json>', 'the payload, a JSON document', parseJson)
    .option('--delay <ms>', 'visible after this many milliseconds', parseNonNegative)
    .option('--priority <n>', 'higher is dequeued first (default 0)', parseInteger)
    .option('--dedupe-key <key>', 'while a message with this key is active, return it instead')
    .option('--max-attempts <n>', 'deliveries before the message is dead', parsePositive)
    .option(
      '--timeout <ms>',
      "handler timeout of this message (wins over the worker's)",
      parsePositive,
    )
    .option(
      '--concurrency-key <key>',
      "the message's concurrency key (the queue's --concurrency-per-key applies to it)",
    )
    .action((queue: string, payload: unknown, opts: SendOptions, cmd: Command) =>
      ctx.withStore(cmd, `sending to ${queue}`, async (store) => {
        const m = await new Producer(store, queue).enqueue(payload, {
          delayMs: opts.delay,
          priority: opts.priority,
          dedupeKey: opts.dedupeKey,
          maxAttempts: opts.maxAttempts,
          timeoutMs: opts.timeout,
          concurrencyKey: opts.concurrencyKey,
        })
        return messageOutput(m)
      }),
    )

  const messages = program
    .command('messages')
    .description(
      'list the messages of a queue in one state, oldest first (or: messages get|cancel|retry-now ID)',
    )
    .argument('<queue>', 'queue name')
    .addOption(
      new Option('--state <state>', 'which messages (active = pending, delayed and leased)')
        .choices(STATES)
        .default('active'),
    )
    .option('--limit <n>', 'at most this many', parsePositive, 100)
    .action(
      (
        queue: string,
        opts: { state: NonNullable<ListMessagesOptions['state']>; limit: number },
        cmd: Command,
      ) =>
        ctx.withStore(cmd, `listing messages of ${queue}`, async (store) => {
          await admin(store).getQueue(queue)
          const list = await store.messages.list(queue, { state: opts.state, limit: opts.limit })
          return { json: list, table: () => rowsTable(list, messageColumns()) }
        }),
    )

  registerMessageControl(messages, ctx)
}

/** `pgqrs messages get|cancel|retry-now ID`: one message by id, and an operator's controls. */
function registerMessageControl(messages: Command, ctx: CliContext): void {
  messages
    .command('get')
    .description('one message by id: active or settled, with its result, start and finish times')
    .argument('<id>', 'message id', parsePositive)
    .action((id: number, _opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, `reading message ${id}`, async (store) =>
        messageOutput(await admin(store).message(id)),
      ),
    )
  messages
    .command('cancel')
    .description('cancel a pending or delayed message: it is deleted and never delivered')
    .argument('<id>', 'message id', parsePositive)
    .action((id: number, _opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, `cancelling message ${id}`, async (store) =>
        messageOutput(await admin(store).cancelMessage(id)),
      ),
    )
  messages
    .command('retry-now')
    .description('make a delayed or backing-off message visible now (attempts are kept)')
    .argument('<id>', 'message id', parsePositive)
    .action((id: number, _opts: unknown, cmd: Command) =>
      ctx.withStore(cmd, `running message ${id} now`, async (store) =>
        messageOutput(await admin(store).retryNow(id)),
      ),
    )
}
