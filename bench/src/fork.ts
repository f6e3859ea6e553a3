import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ChildReply, ChildTask } from './types.ts'

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url))

/**
 * Runs one task in a new child process and resolves with its reply once the child has exited (so
 * its connections are closed before the next measurement starts). A child that does not answer
 * within `timeoutMs` is killed.
 */
export function runChild(
  task: ChildTask,
  timeoutMs: number,
  execArgv: readonly string[] = [],
): Promise<ChildReply> {
  const child = fork(CHILD, [], {
    execArgv: [...process.execArgv, ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // graphile-worker's perfTest setting: no log line per successful job.
    env: { ...process.env, NO_LOG_SUCCESS: '1' },
  })
  return new Promise((resolve) => {
    let reply: ChildReply | null = null
    const timer = setTimeout(() => {
      reply ??= { ok: false, error: `no answer within ${Math.round(timeoutMs / 1000)} s: killed` }
      child.kill('SIGKILL')
    }, timeoutMs)
    child.once('message', (m) => {
      reply ??= m as ChildReply
      // A child that answered but keeps running (a stray timer) is stopped after 10 s.
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve(reply ?? { ok: false, error: `child exited (${code ?? signal}) without an answer` })
    })
    child.send(task)
  })
}
