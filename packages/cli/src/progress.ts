/** A spinner on stderr for commands that may take a while (connecting, installing, purging). */
export interface Progress {
  /** Stops the spinner and erases its line; safe to call twice. */
  stop(): void
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
const NONE: Progress = Object.freeze({ stop() {} })

/**
 * Starts a spinner labelled `label` that appears only after `delayMs` (fast commands show
 * nothing) and only when `enabled` (stderr is a terminal), so pipes and logs never see it.
 */
export function startProgress(
  write: (text: string) => void,
  label: string,
  options: { enabled: boolean; delayMs?: number; intervalMs?: number },
): Progress {
  if (!options.enabled) return NONE
  const started = Date.now()
  let frame = 0
  let shown = false
  let interval: NodeJS.Timeout | undefined
  const draw = () => {
    shown = true
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label} (${seconds}s)`)
  }
  const delay = setTimeout(() => {
    draw()
    interval = setInterval(draw, options.intervalMs ?? 100)
    interval.unref()
  }, options.delayMs ?? 300)
  delay.unref()
  let stopped = false
  return {
    stop() {
      if (stopped) return
      stopped = true
      clearTimeout(delay)
      clearInterval(interval)
      if (shown) write('\r\x1b[2K')
    },
  }
}
