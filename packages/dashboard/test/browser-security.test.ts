import type { Store } from '@pgqrs/core'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDashboard, type Dashboard, type DashboardOptions } from '../dist/index.js'
import { csrfOf, launchChromium, newContext, watchPage } from './browser.js'
import { type Served, serve, sqliteStore, type TestStore } from './harness.js'
import { type StaticSeed, seedStatic } from './seed.js'

const BASE = '/ops'
const TOKEN = 'correct horse battery staple'

let browser: Browser
let ts: TestStore
let data: StaticSeed
const opened: { dashboard: Dashboard; served: Served }[] = []

beforeAll(async () => {
  browser = await launchChromium()
  ts = await sqliteStore()
  data = await seedStatic(ts.store)
})

afterAll(async () => {
  await browser?.close()
  for (const o of opened) {
    await o.served.close()
    o.dashboard.close()
  }
  await ts?.destroy()
})

/** Serves a dashboard over the seeded store with `options`. */
async function start(options: Omit<DashboardOptions, 'store'>): Promise<string> {
  const dashboard = createDashboard({ store: ts.store, basePath: BASE, ...options })
  const served = await serve(dashboard.node)
  opened.push({ dashboard, served })
  return `${served.origin}${BASE}`
}

/** The state every refused action must leave alone. */
async function snapshot(store: Store) {
  const { reports, run, worker } = data
  return {
    dead: (await store.messages.get(reports.dead))?.deadAt?.getTime() ?? null,
    archived: (await store.messages.get(reports.archived)) !== null,
    pending: (await store.messages.get(reports.pending))?.attempts ?? null,
    run: (await store.runs.get(run))?.status,
    worker: (await store.workers.get(worker))?.status,
  }
}

/** Every action of the dashboard as [path, form fields]. */
function actions(): [string, Record<string, string>][] {
  const { reports, run, worker } = data
  return [
    [`/messages/${reports.dead}/replay`, {}],
    [`/messages/${reports.pending}/cancel`, {}],
    ['/queues/reports/purge', { confirm: 'yes', olderThanMs: '0' }],
    [`/runs/${run}/cancel`, {}],
    [`/runs/${run}/resume`, {}],
    [`/workers/${worker}/suspend`, {}],
    [`/workers/${worker}/stop`, {}],
  ]
}

async function openPage(page: Page, url: string): Promise<void> {
  const r = await page.goto(url)
  expect(r?.status(), url).toBe(200)
}

describe('read-only mode', () => {
  let url: string
  beforeAll(async () => {
    url = await start({ readOnly: true })
  })

  it('shows no action on any page', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    const problems = watchPage(page)
    const { reports, run } = data
    for (const path of [
      '/',
      '/queues/reports?state=dead',
      '/queues/reports?state=archived',
      `/messages/${reports.dead}`,
      `/messages/${reports.pending}`,
      '/runs',
      `/runs/${run}`,
      '/workers',
    ]) {
      await openPage(page, `${url}${path}`)
      expect(await page.locator('form[method="post"]').count(), path).toBe(0)
      expect(await page.locator('button[data-action]').count(), path).toBe(0)
      expect(await page.locator('.badge.read-only').count(), path).toBe(1)
    }
    expect(problems).toEqual([])
    await context.close()
  })

  it('refuses every action with 403, even with a valid CSRF token, and changes nothing', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    await openPage(page, `${url}/`)
    const csrf = await csrfOf(page)
    expect(csrf).not.toBe('')
    const before = await snapshot(ts.store)
    for (const [path, fields] of actions()) {
      const r = await page.request.post(`${url}${path}`, {
        form: { _csrf: csrf, back: `${BASE}/`, ...fields },
        maxRedirects: 0,
      })
      expect(r.status(), path).toBe(403)
    }
    const confirm = await page.request.get(`${url}/queues/reports/purge?olderThanMs=0`)
    expect(confirm.status()).toBe(403)
    expect(await snapshot(ts.store)).toEqual(before)
    await context.close()
  })
})

describe('token', () => {
  let url: string
  beforeAll(async () => {
    url = await start({ token: TOKEN })
  })

  it('asks for the token, refuses a wrong one, logs in with an HttpOnly SameSite=Strict cookie', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    const problems = watchPage(page, [`${BASE}/login`]) // the wrong token answers 401
    await page.goto(`${url}/queues/reports`)
    expect(new URL(page.url()).pathname).toBe(`${BASE}/login`)
    const html = await page.content()
    for (const secret of ['idle-1', 'sqlite', 'nightly-report', 'hx-headers'])
      expect(html).not.toContain(secret)
    await page.locator('input[name="token"]').fill('wrong')
    await page.locator('button[type="submit"]').click()
    await page.locator('.flash-error').waitFor()
    await page.locator('input[name="token"]').fill(TOKEN)
    await page.locator('button[type="submit"]').click()
    await page.waitForURL(`**${BASE}/queues/reports`)
    expect(await page.locator('h1').textContent()).toContain('reports')
    const session = (await context.cookies()).find((c) => c.name === 'pgqrs_session')
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: BASE })
    expect(session?.value).not.toContain(TOKEN)
    await page.locator('header button', { hasText: 'Log out' }).click()
    await page.waitForURL(`**${BASE}/login`)
    await page.goto(`${url}/`)
    expect(new URL(page.url()).pathname).toBe(`${BASE}/login`)
    expect(problems).toEqual([])
    await context.close()
  })

  it('accepts Authorization: Bearer, and refuses requests without a token', async () => {
    const bearer = { Authorization: `Bearer ${TOKEN}` }
    const ok = await fetch(`${url}/workers`, { headers: bearer })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('idle-1')
    const page = await fetch(`${url}/workers`, { redirect: 'manual' })
    expect(page.status).toBe(303)
    expect(page.headers.get('location')).toBe(`${BASE}/login?next=%2Fops%2Fworkers`)
    const live = await fetch(`${url}/workers`, {
      headers: { 'HX-Request': 'true', 'HX-Target': 'live' },
    })
    expect(live.status).toBe(401)
    expect(live.headers.get('hx-redirect')).toMatch(/\/ops\/login/)
    const wrong = await fetch(`${url}/workers`, {
      headers: { Authorization: 'Bearer nope' },
      redirect: 'manual',
    })
    expect(wrong.status).toBe(303)
    const before = await snapshot(ts.store)
    const post = await fetch(`${url}/workers/${data.worker}/suspend`, {
      method: 'POST',
      redirect: 'manual',
    })
    expect(post.status).toBe(401)
    expect(await snapshot(ts.store)).toEqual(before)
  })
})

describe('CSRF', () => {
  let url: string
  beforeAll(async () => {
    url = await start({})
  })

  it('refuses a POST without the token, with a wrong one, or from another site', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    await openPage(page, `${url}/messages/${data.reports.dead}`)
    const csrf = await csrfOf(page)
    const before = await snapshot(ts.store)
    const path = `${url}/workers/${data.worker}/suspend`
    for (const [form, headers] of [
      [{}, {}],
      [{ _csrf: 'forged' }, {}],
      [{ _csrf: csrf }, { 'Sec-Fetch-Site': 'cross-site' }],
    ] as const) {
      const r = await page.request.post(path, { form, headers, maxRedirects: 0 })
      expect(r.status(), JSON.stringify({ form, headers })).toBe(403)
    }
    expect(await snapshot(ts.store)).toEqual(before)

    // a form on another site that posts to the dashboard: the cookie stays home, the POST is refused
    const attacker = await serve((_req, res) => {
      res.setHeader('Content-Type', 'text/html')
      res.end(
        `<form method="post" action="${url}/messages/${data.reports.dead}/replay"><input type="hidden" name="back" value="${BASE}/"><button>win a prize</button></form>`,
      )
    })
    try {
      const evil = await context.newPage()
      await evil.goto(attacker.origin.replace('127.0.0.1', 'localhost'))
      const [response] = await Promise.all([
        evil.waitForResponse(/\/replay$/),
        evil.locator('button').click(),
      ])
      expect(response.status()).toBe(403)
      expect(await snapshot(ts.store)).toEqual(before)
    } finally {
      await attacker.close()
    }

    // the same POST with the page's token goes through: the refusals above were the CSRF check
    const good = await page.request.post(path, { form: { _csrf: csrf }, maxRedirects: 0 })
    expect(good.status()).toBe(303)
    expect((await ts.store.workers.get(data.worker))?.status).toBe('suspended')
    await context.close()
  })
})
