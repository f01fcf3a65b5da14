import { join } from 'node:path'
import t from 'tap'
import { parseListenAddress } from '../src/listen/listen-address.js'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'

// Issue #12, item 5: access lines say who asked (remote), with what (ua) and from where (referer).

const accessLine = (url: string) => (l: Record<string, unknown>): boolean => l.msg === 'request' && l.url === url

t.test('an access line carries remote, ua and referer', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ok.sock'))
  const { url, waitForLog } = await startTestRouter(t, { socketDir: dir })
  await httpGet(`${url}/svc/ok/page`, { headers: { 'user-agent': 'curl/8.5.0', referer: 'http://127.0.0.1/svc/ok/' } })
  const line = await waitForLog(accessLine('/svc/ok/page'))
  t.match(line, { status: 200, remote: '127.0.0.1', ua: 'curl/8.5.0', referer: 'http://127.0.0.1/svc/ok/' })
})

t.test('a request without those headers leaves ua and referer out, not empty', async (t) => {
  const dir = makeTempDir(t)
  const { url, waitForLog } = await startTestRouter(t, { socketDir: dir })
  await httpGet(`${url}/nothing/here`)
  const line = await waitForLog(accessLine('/nothing/here'))
  t.equal(line.status, 404)
  t.equal(line.remote, '127.0.0.1')
  t.notOk('ua' in line)
  t.notOk('referer' in line)
})

t.test('a client on a unix listener has no remote address', async (t) => {
  const dir = makeTempDir(t)
  const listenPath = join(dir, 'router.sock')
  const { waitForLog } = await startTestRouter(t, { socketDir: join(dir, 's'), listen: [parseListenAddress(`unix:${listenPath}`)] })
  await httpGet('http://x/nothing/', { socketPath: listenPath, headers: { 'user-agent': 'ua-over-unix' } })
  const line = await waitForLog(accessLine('/nothing/'))
  t.equal(line.ua, 'ua-over-unix')
  t.notOk('remote' in line)
})
