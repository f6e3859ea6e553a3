import { appendFileSync } from 'node:fs'
import * as pgqrs from 'pgqrs'

/** The workflow's name (and its queue's). */
export const WORKFLOW = 'onboard_user'

export interface OnboardingInput {
  readonly user: string
}

export interface OnboardingOutput {
  readonly accountId: string
  readonly emailId: string
  readonly bucket: string
  readonly ticket: string
}

export interface OnboardingOptions {
  /** Every step appends `run=<id> step=<name> pid=<pid>` here when its work is done. */
  readonly logFile: string
  /** How long each step's pretend work takes. */
  readonly stepMs: number
  /** SIGKILL this process right after it ran step N (to try a crash). */
  readonly crashAfterStep?: number | null
  readonly print?: (line: string) => void
}

/**
 * A 4-step workflow whose steps append to a log file. Each step's result is stored when it
 * finishes; after a crash, a new worker replays the stored results (the step functions do not run
 * again, so the log gets no second line for them) and runs the remaining steps.
 */
export function onboardingWorkflow(options: OnboardingOptions) {
  const print = options.print ?? ((line: string) => console.log(line))
  const steps = [
    ['create_account', (i: OnboardingInput) => `acct_${i.user}`],
    ['send_welcome_email', (i: OnboardingInput) => `email_to_${i.user}`],
    ['provision_storage', (i: OnboardingInput) => `bucket-${i.user}`],
    ['notify_team', (i: OnboardingInput) => `ticket-for-${i.user}`],
  ] as const

  return pgqrs.defineWorkflow<OnboardingInput, OnboardingOutput>({
    name: WORKFLOW,
    async run(ctx, input) {
      const results: string[] = []
      for (const [index, [name, work]] of steps.entries()) {
        const n = index + 1
        let ran = false
        const result = await ctx.step(name, async () => {
          ran = true
          print(`run ${ctx.runId}: step ${n} ${name} … running`)
          await new Promise((r) => setTimeout(r, options.stepMs))
          const value = work(input)
          appendFileSync(options.logFile, `run=${ctx.runId} step=${name} pid=${process.pid}\n`)
          return value
        })
        print(
          ran
            ? `run ${ctx.runId}: step ${n} ${name} … done (${result})`
            : `run ${ctx.runId}: step ${n} ${name} … skipped (stored result ${result})`,
        )
        results.push(result)
        if (ran && options.crashAfterStep === n) {
          print(`CRASH_AFTER_STEP=${n}: SIGKILL now (step ${n} is stored, step ${n + 1} is not)`)
          process.kill(process.pid, 'SIGKILL')
          await new Promise(() => {}) // never continue: the kill is on its way
        }
      }
      const [accountId, emailId, bucket, ticket] = results as [string, string, string, string]
      return { accountId, emailId, bucket, ticket }
    },
  })
}
