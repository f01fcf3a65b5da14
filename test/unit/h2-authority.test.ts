import t from 'tap'
import { checkRequestHost, requestHost } from '../../src/routing/request-host.js'
import { stripRequestHopHeaders } from '../../src/forward/hop-headers.js'
import { parseListenAddress, formatListenAddress } from '../../src/listen/listen-address.js'

/** An HTTP/2 request as Node's compatibility API presents it: pseudo-headers in headers and rawHeaders. */
function h2Request (headers: Record<string, string>): Parameters<typeof checkRequestHost>[0] {
  const rawHeaders = Object.entries(headers).flat()
  // `stream` is what tells a real HTTP/2 request from an HTTP/1 line saying HTTP/2.0 (forward/is-http2-request.ts).
  return Object.assign({ headers: { ...headers }, rawHeaders, httpVersionMajor: 2, httpVersionMinor: 0, url: headers[':path'] ?? '/' }, { stream: {} })
}

t.test('an HTTP/2 request with neither :authority nor Host is refused, not waved through as an HTTP/1.0 client', async (t) => {
  const failure = checkRequestHost(h2Request({ ':method': 'GET', ':path': '/svc/ui/', ':scheme': 'https' }))
  t.equal(failure?.status, 400)
})

t.test(':authority becomes the Host; a Host beside it must agree', async (t) => {
  const req = h2Request({ ':method': 'GET', ':path': '/', ':scheme': 'https', ':authority': 'Example.test:8443' })
  t.equal(checkRequestHost(req), null)
  t.equal(req.headers.host, 'Example.test:8443')
  t.equal(requestHost(req)?.hostname, 'example.test')
  t.equal(checkRequestHost(h2Request({ ':path': '/', ':authority': 'a.test', host: 'A.test' })), null, 'case does not matter')
  t.equal(checkRequestHost(h2Request({ ':path': '/', ':authority': 'a.test', host: 'b.test' }))?.status, 400)
  const hostOnly = h2Request({ ':path': '/', host: 'c.test' })
  t.equal(checkRequestHost(hostOnly), null, 'Host alone is allowed (RFC 9113 §8.3.1)')
  t.equal(requestHost(hostOnly)?.hostname, 'c.test')
})

t.test('pseudo-headers are never forwarded (RFC 9113 §8.3)', async (t) => {
  t.same(stripRequestHopHeaders({ ':method': 'GET', ':path': '/', ':authority': 'a', ':scheme': 'https', accept: '*/*' } as never), { accept: '*/*' })
})

t.test('listen addresses name their scheme: https:// and h2c://, plain as before', async (t) => {
  t.same(parseListenAddress('https://0.0.0.0:443'), { kind: 'tcp', host: '0.0.0.0', port: 443, scheme: 'https' })
  t.same(parseListenAddress('h2c://[::1]:8080'), { kind: 'tcp', host: '::1', port: 8080, scheme: 'h2c' })
  t.same(parseListenAddress('http://127.0.0.1:80'), { kind: 'tcp', host: '127.0.0.1', port: 80 })
  t.same(parseListenAddress('HTTPS://9443'), { kind: 'tcp', host: '127.0.0.1', port: 9443, scheme: 'https' })
  t.equal(formatListenAddress(parseListenAddress('https://[::1]:443')), 'https://[::1]:443')
  t.throws(() => parseListenAddress('https://unix:/x.sock'))
  t.throws(() => parseListenAddress('ftp://1.2.3.4:21'))
})
