import type { IncomingMessage } from 'node:http'
import t from 'tap'
import { matchRoute, type RouteMatch } from '../src/routing/match-route.js'
import { buildRouteTable, socketsOnly } from '../src/routing/build-route-table.js'
import { parseRequestTarget } from '../src/routing/parse-request-target.js'
import { buildUpstreamHead } from '../src/upgrade/build-upstream-head.js'
import { checkHandshake } from '../src/upgrade/check-handshake.js'
import { expectedAccept, judgeUpgradeResponse } from '../src/upgrade/check-upgrade-response.js'
import { ChunkedDecoder } from '../src/upgrade/chunked-decoder.js'
import { OriginHostGuard } from '../src/upgrade/origin-host-guard.js'
import { parseResponseHead } from '../src/upgrade/read-response-head.js'
import { requestHead, startRequestParser, type HeaderList } from './helpers/real-request.js'

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

const parser = await startRequestParser(t)

/**
 * A real IncomingMessage, parsed by Node from the request's bytes, so that
 * `headers`, `headersDistinct` and `rawHeaders` treat repeated headers
 * exactly as they do for the router. `remoteAddress` null: a unix-listener
 * client, which has none.
 */
function realRequest (method: string, headers: HeaderList, remoteAddress: '127.0.0.1' | null = '127.0.0.1'): Promise<IncomingMessage> {
  return parser.parse(requestHead(method, '/', headers), remoteAddress === null ? 'unix' : 'tcp')
}

const HANDSHAKE = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': KEY, host: '127.0.0.1:9988' }

t.test('the steps get requests as Node parses them: repeated headers joined, dropped or kept apart', async (t) => {
  const req = await realRequest('GET', { host: ['a.example', 'b.example'], cookie: ['a=1', 'b=2'], 'x-a': ['1', '2'] })
  t.equal(req.headers.host, 'a.example', 'a second Host is dropped from headers')
  t.equal(req.headers.cookie, 'a=1; b=2', 'cookies are joined with "; "')
  t.equal(req.headers['x-a'], '1, 2', 'other repeats are joined with ", "')
  t.same(req.headersDistinct.host, ['a.example', 'b.example'], 'headersDistinct keeps both Host lines')
  t.same(req.rawHeaders, ['host', 'a.example', 'host', 'b.example', 'cookie', 'a=1', 'cookie', 'b=2', 'x-a', '1', 'x-a', '2'])
  t.equal((await realRequest('GET', { host: 'x' }, null)).socket.remoteAddress, undefined, 'a unix-listener client has no address')
})

t.test('checkHandshake accepts RFC 6455 §4.1 handshakes and nothing else', async (t) => {
  t.same(checkHandshake(await realRequest('GET', HANDSHAKE)), { key: KEY })
  t.same(checkHandshake(await realRequest('GET', { ...HANDSHAKE, upgrade: 'WebSocket', connection: 'keep-alive, upgrade' })), { key: KEY }, 'tokens are case-insensitive')
  for (const [name, method, headers] of [
    ['h2c', 'GET', { ...HANDSHAKE, upgrade: 'h2c' }],
    ['POST', 'POST', HANDSHAKE],
    ['no Connection: upgrade', 'GET', { ...HANDSHAKE, connection: 'keep-alive' }],
    ['bad key', 'GET', { ...HANDSHAKE, 'sec-websocket-key': 'short' }],
    ['a body', 'GET', { ...HANDSHAKE, 'content-length': '3' }],
    ['chunked', 'GET', { ...HANDSHAKE, 'transfer-encoding': 'chunked' }]
  ] as const) {
    const req = await realRequest(method, headers)
    t.throws(() => checkHandshake(req), { code: 'bad_request', status: 400 }, name)
  }
  t.throws(checkHandshake.bind(null, await realRequest('GET', { ...HANDSHAKE, 'sec-websocket-version': '8' })), { code: 'upgrade_required', status: 426 }, 'version 8 (RFC 6455 §4.4)')
})

t.test('buildUpstreamHead rewrites the path, strips hop-by-hop headers and adds X-Forwarded-* and the upgrade back', async (t) => {
  const { table } = buildRouteTable(socketsOnly({ dir: '/d', sockets: [{ service: 'svc', name: 'ws', path: '/d/svc/ws.sock', relativePath: 'svc/ws.sock', identity: '1' }] }))
  const match = matchRoute(table, parseRequestTarget('/svc/ws/feed?a=%20')) as RouteMatch
  t.equal(match.upstreamPath, '/feed?a=%20')
  const head = buildUpstreamHead(await realRequest('GET', { ...HANDSHAKE, connection: 'Upgrade, X-Secret', 'x-secret': '1', cookie: ['a=1', 'b=2'], 'keep-alive': '5' }), match)
  const lines = head.split('\r\n')
  t.equal(lines[0], 'GET /feed?a=%20 HTTP/1.1')
  t.ok(head.endsWith('\r\n\r\n'))
  t.notMatch(head, /x-secret|keep-alive/i)
  t.ok(lines.includes('cookie: a=1') && lines.includes('cookie: b=2'), 'repeated headers stay separate lines')
  t.ok(lines.includes('x-forwarded-prefix: /svc/ws'))
  t.ok(lines.includes('x-forwarded-for: 127.0.0.1'))
  t.ok(lines.includes(`sec-websocket-key: ${KEY}`))
  t.equal(lines.filter((l) => /^connection:/i.test(l)).length, 1)
  t.ok(lines.includes('Connection: Upgrade') && lines.includes('Upgrade: websocket'))
})

t.test('parseResponseHead is strict', async (t) => {
  const ok = parseResponseHead(Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-A: 1\r\nx-a: 2\r\n\r\n'))
  t.equal(ok.status, 101)
  t.same(ok.headers.get('x-a'), ['1', '2'])
  t.equal(parseResponseHead(Buffer.from('HTTP/1.1 204\r\n\r\n')).status, 204, 'an empty reason is fine')
  for (const [name, raw] of [
    ['bare LF', 'HTTP/1.1 200 OK\nA: b\r\n\r\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n'],
    ['no colon', 'HTTP/1.1 200 OK\r\nAb\r\n\r\n'],
    ['space before colon', 'HTTP/1.1 200 OK\r\nA : b\r\n\r\n'],
    ['HTTP/1.0', 'HTTP/1.0 200 OK\r\n\r\n'],
    ['two lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    ['length and chunked', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n']
  ] as const) {
    t.throws(() => parseResponseHead(Buffer.from(raw)), { code: 'bad_gateway' }, name)
  }
})

t.test('judgeUpgradeResponse tunnels only a 101 with the right accept (RFC 6455 §4.2.2)', async (t) => {
  t.equal(expectedAccept(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'the RFC 6455 §1.3 example')
  const head = (text: string): ReturnType<typeof parseResponseHead> => parseResponseHead(Buffer.from(text + '\r\n'))
  const good = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${expectedAccept(KEY)}\r\n`
  t.equal(judgeUpgradeResponse(head(good), KEY), 'tunnel')
  t.equal(judgeUpgradeResponse(head(good.replace('websocket', 'h2c')), KEY), 'invalid')
  t.equal(judgeUpgradeResponse(head(good.replace('Connection: Upgrade', 'Connection: close')), KEY), 'invalid')
  t.equal(judgeUpgradeResponse(head(good + `Sec-WebSocket-Accept: ${expectedAccept(KEY)}\r\n`), KEY), 'invalid', 'two accepts')
  t.equal(judgeUpgradeResponse(head(good), 'AAAAAAAAAAAAAAAAAAAAAA=='), 'invalid', 'accept for another key')
  t.equal(judgeUpgradeResponse(head(good.replace('101 Switching Protocols', '200 OK')), KEY), 'relay')
  t.equal(judgeUpgradeResponse(head('HTTP/1.1 103 Early Hints\r\n'), KEY), 'invalid')
})

t.test('ChunkedDecoder decodes across chunk boundaries and refuses bad framing', async (t) => {
  const decoder = new ChunkedDecoder()
  const wire = Buffer.from('5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n')
  const out: Buffer[] = []
  for (const byte of wire) out.push(...decoder.push(Buffer.from([byte])))
  t.equal(Buffer.concat(out).toString(), 'hello world')
  t.ok(decoder.done)
  t.throws(() => new ChunkedDecoder().push(Buffer.from('zz\r\n')), { code: 'bad_gateway' })
  t.throws(() => new ChunkedDecoder().push(Buffer.from('1\r\nab\r\n')), { code: 'bad_gateway' })
})

t.test('OriginHostGuard: loopback, listen addresses and allow-lists', async (t) => {
  const guard = new OriginHostGuard({ listen: [{ kind: 'tcp', host: '192.0.2.7', port: 80 }], allowedHosts: ['router.lan:1234'], allowedOrigins: ['https://app.example'] })
  const host = async (h: string, remote: '127.0.0.1' | null = '127.0.0.1'): Promise<string | null> => guard.checkHost(await realRequest('GET', { host: h }, remote))?.code ?? null
  t.equal(await host('192.0.2.7'), null, 'the listen address')
  t.equal(await host('router.lan:9'), null, 'an allowed host, port ignored')
  t.equal(await host('localhost.'), null)
  t.equal(await host('127.1.2.3:80'), null)
  t.equal(await host('evil.example'), 'forbidden')
  t.equal(await host('evil.example', null), null, 'a unix-listener client is not checked')
  const origin = async (o: string, h = '127.0.0.1:9988'): Promise<string | null> => guard.checkOrigin(await realRequest('GET', { origin: o, host: h }))?.code ?? null
  t.equal(await origin('http://127.0.0.1:9988'), null, 'same host and port')
  t.equal(await origin('https://app.example'), null, 'allow-listed')
  t.equal(await origin('http://localhost:80', 'localhost'), null, 'default port normalised')
  t.equal(await origin('http://127.0.0.1:9989'), 'forbidden')
  t.equal(await origin('file://'), 'forbidden')
  t.equal(guard.checkOrigin(await realRequest('GET', { host: '127.0.0.1' })), null, 'no Origin: not a browser')
})
