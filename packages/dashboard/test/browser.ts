import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it when missing). */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * Flags for a headless Chromium on a machine with a closed network: no sandbox (CI runs as root),
 * no GPU, and none of the background connections (updates, sync, QUIC probes) that would fail.
 */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * Launches headless Chromium through playwright-core (which never downloads a browser). Playwright
 * gives every launch a fresh, empty `--user-data-dir` of its own, removed on close. Fails at once,
 * saying what to install, when Chromium is missing: the browser tests never skip and never hang.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`apt-get install chromium\` (as root; .ci/run does it). The dashboard's browser tests need it.`,
    )
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 20_000 })
}

/** A fresh context (no cookies) with the screenshot viewport. */
export function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' })
}

/**
 * Collects everything that counts as a page failure: console errors, uncaught exceptions, failed
 * requests and HTTP error responses of the page's own requests (a refused live refresh, a missing
 * asset). `allow` lists URL substrings whose 4xx responses a test expects.
 */
export function watchPage(page: Page, allow: readonly string[] = []): string[] {
  const problems: string[] = []
  const allowed = (url: string) => allow.some((a) => url.includes(a))
  page.on('console', (m) => {
    if (m.type() === 'error' && !allowed(m.location().url)) {
      problems.push(`console error: ${m.text()} (${m.location().url})`)
    }
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('requestfailed', (r) => {
    // a live refresh cut short by leaving the page is not a failure
    if (r.failure()?.errorText !== 'net::ERR_ABORTED')
      problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`)
  })
  page.on('response', (r) => {
    if (r.status() >= 400 && !allowed(r.url())) {
      problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`)
    }
  })
  return problems
}

/** True when `PGQRS_DASHBOARD_SCREENSHOTS=1`: the tests then write docs/dashboard/*.png. */
export const SCREENSHOTS = process.env.PGQRS_DASHBOARD_SCREENSHOTS === '1'

const SHOTS_DIR = fileURLToPath(new URL('../../../docs/dashboard/', import.meta.url))

/** Writes a full-page screenshot to docs/dashboard/<name>.png when {@link SCREENSHOTS} is on. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return
  mkdirSync(SHOTS_DIR, { recursive: true })
  await page.screenshot({ path: `${SHOTS_DIR}${name}.png`, fullPage: true })
}

/** The CSRF token a page carries (what htmx sends as `X-CSRF-Token`). */
export async function csrfOf(page: Page): Promise<string> {
  const headers = await page.locator('body').getAttribute('hx-headers')
  return (JSON.parse(headers ?? '{}') as Record<string, string>)['X-CSRF-Token'] ?? ''
}
