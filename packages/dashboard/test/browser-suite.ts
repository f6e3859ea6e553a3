import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDashboard, type Dashboard } from '../dist/index.js'
import { launchChromium, newContext, SCREENSHOTS, screenshot, watchPage } from './browser.js'
import { type Served, serve, type TestStore, until } from './harness.js'
import { type Seeded, seed } from './seed.js'

const BASE = '/admin/pgqrs'

/** How a browser suite gets its store: a fresh Postgres schema or SQLite file. */
export interface SuiteBackend {
  readonly name: string
  /** '' to run; otherwise why the suite skips (no PostgreSQL). Chromium is never a reason. */
  readonly skipReason: string
  create(): Promise<TestStore>
  /** Writes the docs screenshots (one backend does, when PGQRS_DASHBOARD_SCREENSHOTS=1). */
  readonly screenshots: boolean
}

/**
 * The browser suite of one backend: every page loads in Chromium without a console error against
 * seeded data, and the actions reach the database (replay handled by a running worker, a run
 * cancelled, a purge confirmed, a worker suspended and resumed).
 */
export function describeBrowserSuite(backend: SuiteBackend): void {
  const shot = (page: Page, name: string) =>
    backend.screenshots ? screenshot(page, name) : undefined
  describe.skipIf(backend.skipReason !== '')(
    `dashboard in Chromium on ${backend.name}${backend.skipReason ? ` — skipped: ${backend.skipReason}` : ''}`,
    () => {
      let browser: Browser
      let ts: TestStore
      let seeded: Seeded
      let dashboard: Dashboard
      let served: Served
      let context: BrowserContext
      let page: Page
      let problems: string[]

      beforeAll(async () => {
        browser = await launchChromium() // first, so that a missing Chromium fails in seconds
        ts = await backend.create()
        seeded = await seed(ts.store)
        dashboard = createDashboard({
          store: ts.store,
          basePath: BASE,
          refreshMs: 1_000,
          sampleIntervalMs: 500,
        })
        served = await serve(dashboard.node)
        context = await newContext(browser)
        page = await context.newPage()
        problems = watchPage(page)
      })

      afterAll(async () => {
        await context?.close()
        await browser?.close()
        await served?.close()
        dashboard?.close()
        await seeded?.stop()
        await ts?.destroy()
      })

      const open = async (path: string) => {
        const response = await page.goto(`${served.origin}${BASE}${path}`)
        expect(response?.status(), path).toBe(200)
        await page.locator('h1').waitFor()
        expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined()
      }

      it('loads every page without a console error, and the live parts refresh', async () => {
        // traffic while the sampler (every 500 ms) records it, so that the charts have lines
        const producer = await ts.store.producer('emails')
        await open('/')
        // (longer for the screenshots); one message per burst fails for good, for the failure rate
        for (let i = 0; i < (SCREENSHOTS && backend.screenshots ? 16 : 4); i++) {
          const n = 5 + ((i * 7) % 11)
          await producer.enqueueMany(
            Array.from({ length: n }, (_, k) => ({ to: `burst${i}-${k}@example.com` })),
          )
          if (i % 3 === 1)
            await producer.enqueue({ to: `bounce${i}@example.com`, fail: true }, { maxAttempts: 1 })
          await new Promise((r) => setTimeout(r, 500))
        }
        const refresh = page.waitForRequest((r) => r.headers()['hx-request'] === 'true')
        await open('/')
        await refresh
        await until(
          'the charts to draw',
          async () => (await page.locator('.chart polyline').count()) > 0,
        )
        expect(await page.locator('tr[data-queue="emails"]').count()).toBe(1)
        expect(await page.locator('tr[data-worker="mailer-1"]').count()).toBe(1)
        await page.waitForTimeout(1_200) // one live refresh after the charts
        await shot(page, 'overview')

        const { reports, runs, deadId } = seeded
        for (const state of ['active', 'pending', 'leased', 'delayed', 'dead', 'archived']) {
          await open(`/queues/reports?state=${state}`)
        }
        await open('/queues/emails?state=dead')
        expect(
          await page.locator(`tr[data-message="${deadId}"] button[data-action="replay"]`).count(),
        ).toBe(1)
        await shot(page, 'queue')
        await open(`/messages/${reports.dead}`)
        expect(await page.locator('pre.json').textContent()).toContain('<script>')
        await shot(page, 'message')
        await open(`/messages/${reports.pending}`)
        expect(await page.locator('button[data-action="cancel"]').count()).toBe(1)
        await open(`/messages/${reports.delayed}`)
        // a handled message: its handler's result and how long the settling delivery took
        await open('/queues/emails?state=archived')
        expect(
          await page.locator(`tr[data-message="${seeded.handledId}"]`).textContent(),
        ).toContain('mx1.example') // (jsonb orders keys its own way)
        await open(`/messages/${seeded.handledId}`)
        expect(await page.locator('[data-field="result"] pre.json').textContent()).toContain(
          '"relay": "mx1.example.com"',
        )
        expect(await page.locator('[data-field="handled-in"]').textContent()).toMatch(/\d+ (ms|s)$/)
        await shot(page, 'message-result')
        await open('/runs')
        // three runs of nightly-report, assemble-report and its three children
        expect(await page.locator('tr[data-run]').count()).toBe(7)
        await shot(page, 'runs')
        await open('/runs?status=ERROR&workflow=nightly-report')
        expect(await page.locator('tr[data-run]').count()).toBe(1)
        await open(`/runs/${runs.failed}`)
        await open(`/runs/${runs.sleeping}`)
        expect(await page.locator('.timeline rect.bar-sleep').count()).toBe(1)
        // the event sent to it, not taken yet, and the value it published
        expect(await page.locator('tr[data-event="approve"]').textContent()).toContain('pending')
        expect(await page.locator('tr[data-value="progress"]').count()).toBe(1)
        await open(`/runs/${runs.success}`)
        expect(await page.locator('tr[data-step]').count()).toBe(4)
        expect(await page.locator('tr[data-value="progress"]').textContent()).toContain('rendered')
        // not a child: no parent link, and no child runs
        expect(await page.locator('[data-field="parent"]').count()).toBe(0)
        expect(await page.locator('tr[data-child]').count()).toBe(0)
        expect(await page.getByText('No child runs.').count()).toBe(1)
        await open('/workers')
        await shot(page, 'workers')
        expect(problems).toEqual([])
      })

      it("lists a run's children, which open their page and link back to the parent", async () => {
        const { parent, children } = seeded.family
        await open(`/runs/${parent}`)
        expect(await page.locator('[data-field="parent"]').count()).toBe(0)
        const rows = page.locator('tr[data-child]')
        expect(await rows.count()).toBe(children.length)
        // newest first (by id), each SUCCESS, with the parent's step that started it
        const listed = await rows.evaluateAll((trs) =>
          trs.map((tr) => tr.getAttribute('data-child')),
        )
        expect(listed).toEqual([...children].reverse().map(String))
        const stepOf = new Map<string, number>()
        for (const id of children) {
          const row = page.locator(`tr[data-child="${id}"]`)
          expect(await row.locator('.status').textContent()).toBe('SUCCESS')
          expect(await row.locator('td').nth(1).textContent()).toBe('render-section')
          stepOf.set((await row.locator('td').nth(5).textContent()) ?? '', id)
        }
        expect([...stepOf.keys()].sort()).toEqual([
          'child:render-section',
          'child:render-section#2',
          'child:render-section#3',
        ])
        expect(await page.getByText(/The newest \d+ child runs/).count()).toBe(0) // not truncated
        await shot(page, 'run')
        // the first child's link (the one with hostile input) opens its page, which links back
        const first = stepOf.get('child:render-section')!
        await page.locator(`tr[data-child="${first}"] a`).click()
        await page.waitForURL(`**${BASE}/runs/${first}`)
        await page.locator('h1').waitFor()
        expect(await page.locator('h1').textContent()).toContain('render-section')
        const back = page.locator('[data-field="parent"]')
        expect(await back.textContent()).toBe(
          `child of run #${parent} from step child:render-section`,
        )
        expect(await page.locator('tr[data-child]').count()).toBe(0)
        // its input carries hostile text, shown as text
        expect((await page.locator('pre.json').allTextContents()).join('')).toContain('<script>')
        expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined()
        await back.locator('a').click()
        await page.waitForURL(`**${BASE}/runs/${parent}`)
        await page.locator('h1').waitFor()
        expect(await page.locator('h1').textContent()).toContain('assemble-report')
        expect(await page.locator('tr[data-child]').count()).toBe(children.length)
        expect(problems).toEqual([])
      })

      it('replays a dead message through the UI, and the running worker handles it', async () => {
        seeded.control.failing = false
        await open('/queues/emails?state=dead')
        await page.locator(`tr[data-message="${seeded.deadId}"] a`).first().click()
        await page.waitForURL(`**${BASE}/messages/${seeded.deadId}`)
        expect(await page.locator('#live .status').first().textContent()).toBe('dead')
        await page.locator('button[data-action="replay"]').click()
        await page.waitForURL(`**${BASE}/messages/${seeded.deadId}?ok=replayed`)
        expect(await page.locator('.flash-ok').textContent()).toMatch(/replayed/)
        // the page refreshes itself until the worker has archived the message
        await until(
          'the page to show the message archived',
          async () => (await page.locator('#live .status').first().textContent()) === 'archived',
        )
        const m = await ts.store.messages.get(seeded.deadId)
        expect(m?.archivedAt).toBeInstanceOf(Date)
        expect(m?.deadAt).toBeNull()
        expect(problems).toEqual([])
      })

      it('cancels a sleeping run through the UI, and sees it CANCELLED', async () => {
        const id = seeded.runs.sleeping
        await open('/runs?status=SLEEPING')
        await page.locator(`tr[data-run="${id}"] a`).click()
        await page.waitForURL(`**${BASE}/runs/${id}`)
        expect(await page.locator('#live .status').first().textContent()).toBe('SLEEPING')
        await page.locator('button[data-action="cancel-run"]').click()
        await page.waitForURL(`**${BASE}/runs/${id}?ok=run-cancelled`)
        await until(
          'the page to show the run CANCELLED',
          async () => (await page.locator('#live .status').first().textContent()) === 'CANCELLED',
        )
        expect((await ts.store.runs.get(id))?.status).toBe('CANCELLED')
        expect(await page.locator('button[data-action="cancel-run"]').count()).toBe(0)
        expect(problems).toEqual([])
      })

      it('purges archived messages after a confirmation page', async () => {
        await open('/queues/reports?state=archived')
        expect(await page.locator(`tr[data-message="${seeded.reports.archived}"]`).count()).toBe(1)
        await page.locator('select[name="olderThanMs"]').selectOption('0')
        await page.locator('button[data-action="purge"]').click()
        await page.waitForURL(`**${BASE}/queues/reports/purge?olderThanMs=0`)
        expect(await ts.store.messages.get(seeded.reports.archived)).not.toBeNull() // not yet
        await page.locator('button[data-action="confirm-purge"]').click()
        await page.waitForURL(`**${BASE}/queues/reports?state=archived&ok=purged&n=1`)
        expect(await page.locator('.flash-ok').textContent()).toBe('Purged 1 archived message(s).')
        expect(await ts.store.messages.get(seeded.reports.archived)).toBeNull()
        expect(await ts.store.messages.get(seeded.reports.dead)).not.toBeNull() // dead ones stay
        expect(problems).toEqual([])
      })

      it('cancels pending and delayed messages through the UI: deleted, never delivered', async () => {
        const { pending, delayed } = seeded.reports
        await open('/queues/reports?state=pending')
        await page.locator(`tr[data-message="${pending}"] button[data-action="cancel"]`).click()
        await page.waitForURL(`**${BASE}/queues/reports?state=pending&ok=cancelled`)
        expect(await page.locator('.flash-ok').textContent()).toBe('Message cancelled.')
        expect(await page.locator(`tr[data-message="${pending}"]`).count()).toBe(0)
        expect(await ts.store.messages.get(pending)).toBeNull()
        // from the message's own page (gone afterwards), back to its queue
        await open(`/messages/${delayed}`)
        await page.locator('button[data-action="cancel"]').click()
        await page.waitForURL(`**${BASE}/queues/reports?state=pending&ok=cancelled`)
        expect(await ts.store.messages.get(delayed)).toBeNull()
        // nothing is left to deliver: a claim finds no message in reports
        expect(
          await ts.store.messages.dequeue('reports', { batchSize: 10, leaseMs: 1_000 }),
        ).toEqual([])
        expect(problems).toEqual([])
      })

      it('suspends and resumes a worker through the UI', async () => {
        await open('/workers')
        const row = page.locator('tr[data-worker="report-runner"]')
        await row.locator('button[data-action="suspend"]').click()
        await page.waitForURL(`**${BASE}/workers?ok=worker-suspended`)
        expect((await ts.store.workers.getByName('report-runner'))?.status).toBe('suspended')
        await page.locator('tr[data-worker="report-runner"] button[data-action="resume"]').click()
        await page.waitForURL(`**${BASE}/workers?ok=worker-resumed`)
        expect((await ts.store.workers.getByName('report-runner'))?.status).not.toBe('suspended')
        expect(problems).toEqual([])
      })
    },
  )
}
