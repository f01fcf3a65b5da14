import { join } from 'node:path'
import t from 'tap'
import { launchChromium, NO_CHROMIUM } from './helpers/chromium.js'
import { startDemoService } from '../src/demo/demo-service.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { makeTestCert } from './helpers/tls-cert.js'
import { parseListenAddress } from '../src/listen/listen-address.js'

t.test('Chromium loads a page over https:// by HTTP/2 and echoes over its wss:// WebSocket, which rides RFC 8441', {
  skip: NO_CHROMIUM
}, async (t) => {
  const dir = makeTempDir(t)
  const demo = await startDemoService(join(dir, 'sockets', 'demo', 'ui.sock'))
  t.teardown(() => demo.close())
  const cert = await makeTestCert(dir)
  const { url, waitForLog } = await startTestRouter(t, {
    socketDir: join(dir, 'sockets'),
    listen: [parseListenAddress('https://127.0.0.1:0')],
    tls: { certFile: cert.certFile, keyFile: cert.keyFile },
    shutdownGraceMs: 200
  })

  const browser = await launchChromium(t, ['--ignore-certificate-errors'])
  const page = await browser.newPage()
  const response = await page.goto(`${url}/demo/ui/`, { timeout: 15_000 })
  t.equal(response?.status(), 200)
  // The page itself came over HTTP/2: what the browser reports for its navigation.
  t.equal(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol), 'h2')
  await page.waitForFunction(() => document.querySelector('#ws-status')?.textContent === 'echoed', undefined, { timeout: 15_000 })
  t.match(await page.textContent('#ws-log'), /echo: hello from the browser/)
  // And the WebSocket rode that HTTP/2 connection as an extended CONNECT: the router says which protocol carried it.
  const open = await waitForLog((l) => l.msg === 'websocket tunnel open')
  t.equal(open.service, 'demo')
  t.equal(open.http, '2', 'the tunnel came in over HTTP/2 (RFC 8441), not an HTTP/1.1 Upgrade')
})
