import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import * as pgqrs from 'pgqrs'
import { sleep } from './output.ts'

/** The workflow's name, and so its queue's. */
export const WORKFLOW = 'demo.place_order'

/** The steps, in order. */
export const STEPS = ['reserve_stock', 'charge_card', 'ship_order', 'send_receipt'] as const

/** One line of the step-execution log: a step function started or finished in process `pid`. */
export interface LogEntry {
  readonly event: 'start' | 'done'
  readonly step: string
  readonly pid: number
}

/** Reads the step-execution log (JSON lines). */
export function readLog(file: string): LogEntry[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogEntry)
}

export interface OrderInput {
  readonly orderId: string
  readonly amountCents: number
}

export interface OrderOutput {
  readonly orderId: string
  readonly reservation: string
  readonly payment: string
  readonly tracking: string
  readonly receiptSentTo: string
}

/**
 * The demo's 4-step workflow. Every step function appends to the step-execution log when it starts
 * and when it finishes, and prints what it does; a step whose stored result is replayed does not
 * call its function, so it prints "skipped (stored result)" instead.
 */
export function orderWorkflow(options: {
  logFile: string
  stepMs: number
  print: (line: string) => void
}) {
  const log = (event: LogEntry['event'], step: string) =>
    appendFileSync(options.logFile, `${JSON.stringify({ event, step, pid: process.pid })}\n`)

  async function step<T>(
    ctx: pgqrs.WorkflowContext,
    n: number,
    name: string,
    work: () => T,
  ): Promise<T> {
    let executed = false
    const out = await ctx.step(name, async () => {
      executed = true
      log('start', name)
      options.print(`step ${n}/4 ${name} … running`)
      await sleep(options.stepMs) // the "work"
      const value = work()
      log('done', name)
      return value
    })
    if (executed) options.print(`step ${n}/4 ${name} … done → ${JSON.stringify(out)}`)
    else options.print(`step ${n}/4 ${name} … skipped (stored result ${JSON.stringify(out)})`)
    return out
  }

  return pgqrs.defineWorkflow<OrderInput, OrderOutput>({
    name: WORKFLOW,
    async run(ctx, input) {
      const reservation = await step(ctx, 1, 'reserve_stock', () => `res-${input.orderId}`)
      const payment = await step(ctx, 2, 'charge_card', () => `pay-${input.amountCents}c`)
      const tracking = await step(ctx, 3, 'ship_order', () => `trk-${input.orderId}-7`)
      const receiptSentTo = await step(ctx, 4, 'send_receipt', () => 'ada@example.com')
      return { orderId: input.orderId, reservation, payment, tracking, receiptSentTo }
    },
  })
}
