import { once } from 'node:events'
import { join } from 'node:path'
import t from 'tap'
import { h2Request, openH2 } from './helpers/h2-client.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { makeTestCert } from './helpers/tls-cert.js'
import { DEADLINE_MS, withTimeout } from './helpers/wait-for.js'
import { parseListenAddress } from '../src/listen/listen-address.js'

// RFC 9113 §8.2.2: an HTTP/2 response carries no Connection header. Node drops one and prints an UnsupportedWarning
// on stderr, outside the JSON log (issue #13, found by a new-user trial): the router must not set it there.
t.test('no Connection header on HTTP/2: a 400 and the live feed answer without Node\'s warning', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const dir = makeTempDir(t)
  const cert = await makeTestCert(dir)
  const { url, port } = await startTestRouter(t, { socketDir: join(dir, 'sockets'), listen: [parseListenAddress('https://127.0.0.1:0')], tls: { certFile: cert.certFile, keyFile: cert.keyFile } })
  const session = await openH2(t, url, cert.cert)

  const bad = await h2Request(session, { ':path': '/svc/api/x', ':authority': `127.0.0.1:${port}`, host: 'other.example' })
  t.equal(bad.status, 400)
  t.equal(bad.headers.connection, undefined)

  const feed = session.request({ ':path': '/_sockrouter/events' })
  const [head] = await withTimeout(once(feed, 'response'), DEADLINE_MS, 'the live feed') as [Record<string, unknown>]
  t.equal(head[':status'], 200)
  await withTimeout(once(feed, 'data'), DEADLINE_MS, 'the first state event')
  feed.close()
  // Node emits its warning on the next tick after writing the head; the feed's first event is later than that.
  t.same(warnings.filter((w) => /connection header/i.test(w)), [])
})
