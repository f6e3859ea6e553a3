import { styleText } from 'node:util'

type Style = Parameters<typeof styleText>[0]

/** Colours only on a terminal (styleText checks the stream, NO_COLOR and FORCE_COLOR). */
export function paint(style: Style, text: string): string {
  return styleText(style, text, { stream: process.stdout })
}

/** Prints one line. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`)
}

/** A section heading. */
export function heading(text: string): void {
  say()
  say(paint('bold', `== ${text}`))
}

/** Milliseconds as seconds with one decimal. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

/** A promise that resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls `check` every `everyMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; everyMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms: ${what}`)
    await sleep(options.everyMs ?? 20)
  }
}
