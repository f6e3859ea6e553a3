/**
 * Child process of the workflow crash tests: runs `workflowWorker` over one workflow and, when
 * asked to, SIGKILLs itself in the middle of the run. See ./protocol.ts.
 */
import { appendFileSync } from 'node:fs'
import { connect, type Store } from '@pgqrs/core'
import '@pgqrs/queue'
import { defineWorkflow, type WorkflowContext, workflowWorker } from '@pgqrs/workflow'
import { type KyselyLike, scoped } from '../kysely-helpers.js'
import type {
  CrashChildArgs,
  CrashChildMessage,
  CrashInput,
  CrashParentMessage,
} from './protocol.js'

function send(message: CrashChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error('workflow crash child: started without an IPC channel'))
      return
    }
    process.send(message, (error: Error | null) => (error ? reject(error) : resolve()))
  })
}

/** Appends `<what> <pid>` to the file, synchronously. */
function log(input: CrashInput, what: string): void {
  appendFileSync(input.file, `${what} ${process.pid}\n`)
}

/** Dies here, as a crash would: no cleanup, no settle, the lease runs out by itself. */
function die(): Promise<never> {
  process.kill(process.pid, 'SIGKILL')
  return new Promise(() => {})
}

function body(args: CrashChildArgs, store: Store) {
  if (args.kind === 'steps') {
    return async (ctx: WorkflowContext, input: CrashInput) => {
      await ctx.step('one', () => {
        log(input, 'one')
        return 1
      })
      await ctx.step('two', () => {
        log(input, 'two')
        return 2
      })
      return ctx.step('three', async () => {
        if (args.crash) {
          log(input, 'crash')
          // A step that runs a while is stored as RUNNING meanwhile: die once it shows.
          for (let i = 0; i < 500; i++) {
            if ((await store.steps.get(ctx.runId, 'three'))?.status === 'RUNNING') break
            await new Promise((r) => setTimeout(r, 20))
          }
          await die()
        }
        log(input, 'three')
        return 3
      })
    }
  }
  if (args.kind === 'event') {
    return async (ctx: WorkflowContext, input: CrashInput) => {
      await ctx.step('before', () => {
        log(input, 'before')
        return 'b'
      })
      if (args.crash) {
        // die while the run waits: once it is SLEEPING and its message released
        void (async () => {
          for (let i = 0; i < 1_000; i++) {
            const run = await store.runs.get(ctx.runId)
            const m = run && (await store.messages.get(run.messageId))
            if (run?.status === 'SLEEPING' && m?.lease === null) break
            await new Promise((r) => setTimeout(r, 10))
          }
          log(input, 'crash')
          await die()
        })()
      }
      const got = await ctx.waitForEvent<{ by: string }>('approve')
      return ctx.step('after', () => {
        log(input, `after:${got?.by}`)
        return got?.by
      })
    }
  }
  if (args.kind === 'children') {
    const kid = kidWorkflow(args, store)
    return async (ctx: WorkflowContext, input: CrashInput) => {
      await ctx.step('before', () => {
        log(input, 'before')
        return 'b'
      })
      const kids = await Promise.all(
        Array.from({ length: 10 }, (_, i) => ctx.startChild(kid, { file: input.file, i })),
      )
      const results = await Promise.all(kids.map((k) => k.result()))
      return ctx.step('after', () => {
        log(input, 'after')
        return results.reduce((a, b) => a + b, 0)
      })
    }
  }
  const table = args.table ?? ''
  return async (ctx: WorkflowContext, input: CrashInput) => {
    await ctx.step('reserve', () => {
      log(input, 'reserve')
      return 'reserved'
    })
    const paid = await ctx.step(
      'pay',
      async (tx: KyselyLike) => {
        await scoped(tx, args.schema ?? null)
          .insertInto(table)
          .values({ run_id: ctx.runId, note: `paid by ${process.pid}` })
          .execute()
        log(input, 'pay-inserted')
        if (args.crash) await die()
        return 'paid'
      },
      { transactional: true },
    )
    return ctx.step('receipt', () => {
      log(input, 'receipt')
      return paid
    })
  }
}

/** The child workflow of kind `children`: one step that logs `work:<i>` (or dies, see protocol.ts). */
function kidWorkflow(args: CrashChildArgs, store: Store) {
  return defineWorkflow<CrashInput & { i: number }, number>({
    name: `${args.workflow}-kid`,
    run: (ctx, input) =>
      ctx.step('work', async () => {
        if (args.crash) {
          // die once the parent sleeps on its children with its message released
          const parentId = (await store.runs.get(ctx.runId))?.parentId ?? 0
          for (let i = 0; i < 1_000; i++) {
            const parent = await store.runs.get(parentId)
            const m = parent && (await store.messages.get(parent.messageId))
            if (parent?.status === 'SLEEPING' && m?.lease === null) break
            await new Promise((r) => setTimeout(r, 10))
          }
          log(input, 'crash')
          await die()
        }
        log(input, `work:${input.i}`)
        return input.i
      }),
  })
}

let store: Store | undefined
try {
  const args = JSON.parse(process.argv[2] ?? '{}') as CrashChildArgs
  store = await connect(args.dsn, args.config)
  const wf = defineWorkflow<CrashInput, unknown>({ name: args.workflow, run: body(args, store) })
  const runner = workflowWorker(
    store,
    args.kind === 'children' ? [wf, kidWorkflow(args, store)] : [wf],
    {
      leaseMs: args.leaseMs,
      pollIntervalMs: args.pollIntervalMs,
      heartbeatIntervalMs: 1_000,
    },
  )
  const stop = new Promise<void>((resolve) => {
    process.on('message', (m: CrashParentMessage) => {
      if (m?.type === 'stop') resolve()
    })
  })
  // Say 'started' first: a crash child may reach its planned SIGKILL before runner.start()
  // resolves (the worker claims the waiting run at once), and the parent needs the pid.
  await send({ type: 'started', pid: process.pid })
  await runner.start()
  await stop
  await runner.stop({ graceMs: 2_000 })
  await store.close()
  await send({ type: 'stopped' })
  process.disconnect?.()
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error))
  await send({ type: 'error', message: `${e.name}: ${e.message}`, stack: e.stack }).catch(() => {})
  await store?.close().catch(() => {})
  process.exit(1)
}
