import { join } from 'node:path'
import t from 'tap'
import { launchChromium, NO_CHROMIUM } from './helpers/chromium.js'
import { startDemoService } from '../src/demo/demo-service.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'

t.test('headless Chromium loads the demo page through the router and sees the WebSocket echo', {
  skip: NO_CHROMIUM
}, async (t) => {
  const dir = makeTempDir(t)
  const demo = await startDemoService(join(dir, 'demo', 'ui.sock'))
  t.teardown(() => demo.close())
  const { url, waitForLog } = await startTestRouter(t, { socketDir: dir, shutdownGraceMs: 200 })

  const browser = await launchChromium(t)
  const page = await browser.newPage()
  const response = await page.goto(`${url}/demo/ui/`, { timeout: 15_000 })
  t.equal(response?.status(), 200)
  await page.waitForFunction(() => document.querySelector('#ws-status')?.textContent === 'echoed', undefined, { timeout: 15_000 })
  t.equal(await page.textContent('#ws-status'), 'echoed')
  t.match(await page.textContent('#ws-log'), /echo: hello from the browser/)
  const open = await waitForLog((l) => l.msg === 'websocket tunnel open')
  t.equal(open.service, 'demo')
})
