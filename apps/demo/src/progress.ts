import cliProgress from 'cli-progress'
import { say } from './output.ts'

/** Shows how many jobs are done: a live bar on a terminal, a few plain lines elsewhere (CI, pipes). */
export interface Progress {
  /** The number of finished jobs (and of retries so far). */
  update(done: number, retries: number): void
  stop(): void
}

/** A progress display for `total` jobs. */
export function createProgress(total: number, tty = Boolean(process.stdout.isTTY)): Progress {
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        format:
          '  jobs [{bar}] {percentage}% | {value}/{total} | {rate} jobs/s | retries {retries}',
        stream: process.stdout,
        hideCursor: true,
        fps: 20,
      },
      cliProgress.Presets.shades_classic,
    )
    const started = Date.now()
    bar.start(total, 0, { rate: '0', retries: 0 })
    return {
      update(done, retries) {
        const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000))
        bar.update(done, { rate: String(rate), retries })
      },
      stop() {
        bar.stop()
      },
    }
  }
  // Not a terminal: one line per quarter, so CI logs stay short and readable.
  let shown = 0
  return {
    update(done, retries) {
      const quarter = Math.floor((done / total) * 4)
      if (quarter > shown) {
        shown = quarter
        say(`  jobs ${done}/${total} (${quarter * 25}%), retries so far ${retries}`)
      }
    },
    stop() {},
  }
}
