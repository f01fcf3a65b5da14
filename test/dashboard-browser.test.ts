import { join } from 'node:path'
import t from 'tap'
import { launchChromium, NO_CHROMIUM } from './helpers/chromium.js'
import { startBackend } from './helpers/backend.js'
import { startTestRouter } from './helpers/router.js'
import { writeRouteFile } from './helpers/services-dir.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { DEADLINE_MS } from './helpers/wait-for.js'

// Issue #12, item 3: the dashboard in real Chromium (helpers/chromium.ts).

// A route-file name is text from the disk: it must reach the page as text, never as markup.
const HOSTILE_FILE = '<img src=x onerror=window.pwned=1>.yaml'

t.test('the dashboard lists the routes, follows a new socket live without a reload, and logs no errors', {
  skip: NO_CHROMIUM
}, async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'd')
  writeRouteFile(servicesDir, 'api.yaml', 'routes:\n  - prefix: /later\n    socket: later/api.sock\n')
  writeRouteFile(servicesDir, HOSTILE_FILE, 'routes:\n  - prefix: /bad\n')
  await startBackend(t, join(socketDir, 'svc', 'ui.sock'))
  await startBackend(t, join(socketDir, 'svc', 'api.sock'))
  const { url } = await startTestRouter(t, { socketDir, servicesDir, shutdownGraceMs: 200 })

  const browser = await launchChromium(t)
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  const problems: string[] = []
  page.on('console', (message) => { if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`) })
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))

  const response = await page.goto(`${url}/_sockrouter/`, { timeout: 15_000 })
  t.equal(response?.status(), 200)
  t.match(response?.headers()['content-security-policy'], /script-src 'sha256-/)
  const prefixes = (): Promise<string[]> => page.$$eval('#route-rows tr:not([hidden]) td.c-route a', (links) => links.map((a) => a.textContent ?? ''))
  await page.waitForFunction(() => document.querySelectorAll('#route-rows tr').length === 3, undefined, { timeout: DEADLINE_MS })
  t.same(await prefixes(), ['/later/', '/svc/api/', '/svc/ui/'])
  const ui = page.locator('#route-rows tr', { hasText: '/svc/ui/' })
  t.equal(await ui.locator('td.c-target .mono').textContent(), 'svc/ui.sock')
  t.equal(await ui.locator('td.c-status').textContent(), 'up')
  t.equal(await ui.locator('td.c-health .badge').textContent(), 'unknown')
  t.equal(await ui.locator('td.c-source').textContent(), 'discovered')
  const later = page.locator('#route-rows tr', { hasText: '/later/' })
  t.equal(await later.locator('td.c-status').textContent(), 'down')
  t.equal(await later.locator('td.c-source').textContent(), 'd/api.yaml')
  t.equal(await ui.locator('td.c-route a').getAttribute('href'), '../svc/ui/', 'links are relative, so they hold behind a path prefix')

  await t.test('route-file errors show as text, never as markup', async (t) => {
    t.equal(await page.isVisible('#problems'), true)
    t.match(await page.textContent('#config-errors'), HOSTILE_FILE)
    t.equal(await page.locator('#problems img').count(), 0)
    t.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined)
    t.equal(await page.textContent('#router-status'), 'degraded')
  })

  await t.test('a socket created while the page is open appears without a reload, and one removed goes', async (t) => {
    await page.evaluate(() => { (window as unknown as { sameDocument: boolean }).sameDocument = true })
    const added = await startBackend(t, join(socketDir, 'svc', 'new.sock'))
    await page.waitForFunction(() => [...document.querySelectorAll('#route-rows td.c-route a')].some((a) => a.textContent === '/svc/new/'), undefined, { timeout: DEADLINE_MS })
    t.same(await prefixes(), ['/later/', '/svc/api/', '/svc/new/', '/svc/ui/'])
    t.equal(await page.textContent('#n-routes .num'), '4')
    await added.close()
    await page.waitForFunction(() => document.querySelectorAll('#route-rows tr').length === 3, undefined, { timeout: DEADLINE_MS })
    t.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'the same document: no reload')
    t.equal(await page.textContent('#live'), 'live')
  })

  await t.test('the filter hides the routes that do not match', async (t) => {
    await page.fill('#filter', 'api')
    t.same(await prefixes(), ['/later/', '/svc/api/'])
    await page.fill('#filter', 'nothing-like-this')
    t.same(await prefixes(), [])
    t.equal(await page.isVisible('#no-match'), true)
    await page.fill('#filter', '')
    t.equal((await prefixes()).length, 3)
  })

  await t.test('on a phone-width screen each route is a card with its labels', async (t) => {
    await page.setViewportSize({ width: 390, height: 844 })
    t.equal(await page.$eval('#routes thead', (el) => getComputedStyle(el).display), 'none')
    t.equal(await page.$eval('#route-rows tr', (el) => getComputedStyle(el).display), 'grid')
    t.equal(await page.$eval('#route-rows td.c-rps', (el) => getComputedStyle(el, '::before').content), '"req/s"')
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    t.ok(width <= 390, `no sideways scrolling (${width} px)`)
  })

  t.same(problems, [], 'no console errors or page errors')
  // Closed before the router: a feed cut by shutdown would log a failed reconnect.
  await page.close()
})
