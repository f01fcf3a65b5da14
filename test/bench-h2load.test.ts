import { once } from 'node:events'
import { createSecureServer, type Http2SecureServer } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { findH2load, h2load, parseH2loadSummary } from '../bench/load/h2load.js'
import { freePort } from '../bench/children.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { makeTestCert } from './helpers/tls-cert.js'

/**
 * The bench's h2load wrapper (issue #13) against a real Node HTTP/2 server:
 * the figures it reads from h2load's summary and per-request log are what
 * the HTTP/2 rows of `npm run bench` report.
 */

const H2LOAD = findH2load()
const skip = H2LOAD === null ? 'no h2load (apt-get install -y nghttp2-client)' : false

async function startServer (t: Test, status: number): Promise<number> {
  const cert = await makeTestCert(makeTempDir(t))
  const server: Http2SecureServer = createSecureServer({ cert: cert.cert, key: cert.key, allowHTTP1: true }, (req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' })
    res.end('ok')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return (server.address() as AddressInfo).port
}

t.test('an HTTP/2 run reports its 2xx count, h2 by ALPN and percentiles from the log', { skip }, async (t) => {
  const port = await startServer(t, 200)
  const r = await h2load(H2LOAD as string, { kind: 'tcp', port, path: '/', tls: true }, { protocol: 'h2', connections: 2, streams: 4, seconds: 0.3, logFile: join(makeTempDir(t), 'log.tsv') })
  t.equal(r.negotiated.alpn, 'h2')
  t.ok(r.ok > 0, `${r.ok} responses`)
  t.equal(r.errors, 0)
  t.ok(r.seconds > 0.2 && r.seconds < 5, `${r.seconds} s`)
  t.ok(Math.abs(r.reqPerSec - r.ok / r.seconds) < 1e-6)
  t.ok(r.p50Us > 0 && r.p50Us <= r.p99Us, `p50 ${r.p50Us} µs, p99 ${r.p99Us} µs`)
  t.ok(r.bytesPerSec > 0)
})

t.test('an --h1 run negotiates http/1.1 over the same TLS listener', { skip }, async (t) => {
  const port = await startServer(t, 200)
  const r = await h2load(H2LOAD as string, { kind: 'tcp', port, path: '/', tls: true }, { protocol: 'http/1.1', connections: 2, streams: 1, seconds: 0.3, logFile: join(makeTempDir(t), 'log.tsv') })
  t.equal(r.negotiated.alpn, 'http/1.1')
  t.ok(r.ok > 0, `${r.ok} responses`)
  t.equal(r.errors, 0)
})

t.test('non-2xx answers count as errors and not as responses, and leave no latency samples', { skip }, async (t) => {
  const port = await startServer(t, 503)
  const r = await h2load(H2LOAD as string, { kind: 'tcp', port, path: '/', tls: true }, { protocol: 'h2', connections: 1, streams: 2, seconds: 0.3, logFile: join(makeTempDir(t), 'log.tsv') })
  t.equal(r.ok, 0)
  t.ok(r.errors > 0, `${r.errors} errors`)
  t.ok(Number.isNaN(r.p50Us))
})

t.test('a run that never connects fails, saying no protocol was negotiated', { skip }, async (t) => {
  const port = await freePort()
  await t.rejects(h2load(H2LOAD as string, { kind: 'tcp', port, path: '/', tls: true }, { protocol: 'h2', connections: 1, streams: 1, seconds: 0.3, logFile: join(makeTempDir(t), 'log.tsv') }), /negotiated no protocol/)
})

t.test('the summary parser reads nghttp2 1.52 units and counts', async (t) => {
  const s = parseH2loadSummary([
    'TLS Protocol: TLSv1.2',
    'Cipher: ECDHE-ECDSA-AES128-GCM-SHA256',
    'Application protocol: h2',
    '',
    'finished in 601.65ms, 3333.33 req/s, 231.33KB/s',
    'requests: 2001 total, 2002 started, 2001 done, 2000 succeeded, 1 failed, 1 errored, 0 timeout',
    'status codes: 1990 2xx, 0 3xx, 4 4xx, 6 5xx',
    'traffic: 231.33KB (236880) total, 156.29KB (160040) headers (space savings 51.02%), 9.77KB (10000) data'
  ].join('\n'))
  t.same(s, { seconds: 0.60165, ok: 1990, failed: 1, non2xx: 10, bytes: 236880, alpn: 'h2', tls: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256' })
  t.throws(() => parseH2loadSummary('No protocol negotiated\n'), /h2load did not finish: No protocol negotiated/)
})
