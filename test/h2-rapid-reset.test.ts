import { once } from 'node:events'
import { constants } from 'node:http2'
import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { h2Request, openH2 } from './helpers/h2-client.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { makeTestCert } from './helpers/tls-cert.js'
import { DEADLINE_MS, withTimeout } from './helpers/wait-for.js'
import { parseListenAddress } from '../src/listen/listen-address.js'

/** Far past nghttp2's reset burst (1000): the flood must end in GOAWAY well before this many. */
const FLOOD = 20_000
/**
 * A deadline, not a budget: on a box at load 10 the router (in this process)
 * read the flood's first ~2,000 streams in more than DEADLINE_MS (three
 * helpers saw it time out during issue #14; alone it passes in about 1 s).
 */
const GOAWAY_DEADLINE_MS = 3 * DEADLINE_MS

t.test('rapid reset (CVE-2023-44487): a session that floods reset streams gets GOAWAY, and others keep being served', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'sockets', 'svc', 'api.sock'))
  const cert = await makeTestCert(dir)
  const { url } = await startTestRouter(t, { socketDir: join(dir, 'sockets'), listen: [parseListenAddress('https://127.0.0.1:0')], tls: { certFile: cert.certFile, keyFile: cert.keyFile }, logLevel: 'info' })
  const attacker = await openH2(t, url, cert.cert)
  const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  const goaway = once(attacker, 'goaway')
  let sent = 0
  const flood = (): void => {
    for (let i = 0; i < 200 && sent < FLOOD; i++) {
      if (attacker.closed || attacker.destroyed) return
      const stream = attacker.request({ ':path': '/svc/api/x' })
      stream.on('error', () => {})
      stream.close(constants.NGHTTP2_CANCEL)
      sent++
    }
    if (sent < FLOOD) setImmediate(flood)
  }
  flood()
  const [code, lastStreamId] = await withTimeout(goaway, GOAWAY_DEADLINE_MS, 'GOAWAY for the flooding session') as [number, number]
  t.not(code, constants.NGHTTP2_NO_ERROR, 'GOAWAY with an error code')
  // Client streams have odd ids (RFC 9113 §5.1.1): the router read this many of the FLOOD streams before it stopped.
  const read = (lastStreamId + 1) / 2
  t.ok(read < FLOOD / 2, `the router stopped reading after ${read} of ${FLOOD} streams`)
  t.ok(backend.seen.length < read, `${backend.seen.length} of ${read} reset streams reached the backend`)

  const other = await openH2(t, url, cert.cert)
  const res = await h2Request(other, { ':path': '/svc/api/after' })
  t.equal(res.status, 200, 'a new session is served')

  // Each reset stream's request was aborted before it reached a backend; none may leave its 60 s header timer behind.
  attacker.destroy()
  const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  t.ok(timers < timersBefore + 20, `${timers} timers pending after the flood, ${timersBefore} before it`)
})
