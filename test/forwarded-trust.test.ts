import { join } from 'node:path'
import { createServer } from 'node:net'
import t, { type Test } from 'tap'
import { parseOptions } from '../src/cli/parse-options.js'
import { parseProxyRange, TrustedProxies } from '../src/forward/trusted-proxies.js'
import { parseListenAddress } from '../src/listen/listen-address.js'
import { startBackend, type Backend } from './helpers/backend.js'
import { httpGet, rawExchange, statusOf } from './helpers/http-client.js'
import { startTestRouter, type TestRouterOptions } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { handshakeHead, startWsBackend, type WsBackend } from './helpers/ws-backend.js'

interface Teardown { teardown (fn: () => unknown): void }

// What a client (or the balancer in front) claims about earlier hops.
const CLAIMS = {
  'X-Forwarded-For': '203.0.113.7',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'public.example',
  'X-Forwarded-Prefix': '/tools/',
  'X-Forwarded-Port': '443',
  Forwarded: 'for=203.0.113.7;proto=https',
  'X-Real-IP': '203.0.113.7'
}

async function setUp (t: Teardown, options: Partial<TestRouterOptions> = {}): Promise<{ http: Backend, ws: WsBackend, dir: string, port: number, url: string }> {
  const dir = makeTempDir(t)
  const http = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const ws = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, url } = await startTestRouter(t, { socketDir: dir, ...options })
  return { http, ws, dir, port, url }
}

async function handshake (t: Test, port: number, ws: WsBackend): Promise<Record<string, string | string[] | undefined>> {
  const raw = await rawExchange(port, handshakeHead('/svc/ws/', port, CLAIMS), 500)
  t.equal(statusOf(raw), 101)
  return ws.seen.at(-1)?.headers ?? {}
}

function expectReplaced (t: Test, headers: Record<string, string | string[] | undefined>, host: string): void {
  t.equal(headers['x-forwarded-for'], '127.0.0.1', 'For is the router\'s own view')
  t.equal(headers['x-forwarded-proto'], 'http')
  t.equal(headers['x-forwarded-host'], host)
  t.equal(headers['x-forwarded-prefix'], '/svc/' + (headers['sec-websocket-key'] === undefined ? 'ui' : 'ws'))
  t.equal(headers['x-forwarded-port'], undefined)
  t.equal(headers.forwarded, undefined)
  t.equal(headers['x-real-ip'], undefined)
}

function expectKept (t: Test, headers: Record<string, string | string[] | undefined>, appended: string | null): void {
  t.equal(headers['x-forwarded-for'], appended === null ? '203.0.113.7' : `203.0.113.7, ${appended}`)
  t.equal(headers['x-forwarded-proto'], 'https', 'the balancer saw the scheme')
  t.equal(headers['x-forwarded-host'], 'public.example')
  t.equal(headers['x-forwarded-prefix'], '/tools/svc/' + (headers['sec-websocket-key'] === undefined ? 'ui' : 'ws'), 'the outer prefix goes in front')
  t.equal(headers['x-forwarded-port'], '443')
  t.equal(headers.forwarded, 'for=203.0.113.7;proto=https')
  t.equal(headers['x-real-ip'], '203.0.113.7')
}

t.test('by default a client\'s own X-Forwarded-* are replaced on HTTP', async (t) => {
  const { http, port, url } = await setUp(t)
  await httpGet(`${url}/svc/ui/x`, { headers: CLAIMS })
  expectReplaced(t, http.seen[0]?.headers ?? {}, `127.0.0.1:${port}`)
})

t.test('by default a client\'s own X-Forwarded-* are replaced on a WebSocket handshake', async (t) => {
  const { ws, port } = await setUp(t)
  expectReplaced(t, await handshake(t, port, ws), `127.0.0.1:${port}`)
})

t.test('a --trusted-proxy client that does not match keeps nothing', async (t) => {
  const { http, port, url } = await setUp(t, { trustedProxies: ['10.0.0.0/8', '::1', '127.0.0.2'] })
  await httpGet(`${url}/svc/ui/x`, { headers: CLAIMS })
  expectReplaced(t, http.seen[0]?.headers ?? {}, `127.0.0.1:${port}`)
})

t.test('a trusted proxy\'s X-Forwarded-* are kept and appended to on HTTP', async (t) => {
  const { http, url } = await setUp(t, { trustedProxies: ['127.0.0.0/8'] })
  await httpGet(`${url}/svc/ui/x`, { headers: CLAIMS })
  expectKept(t, http.seen[0]?.headers ?? {}, '127.0.0.1')
})

t.test('a trusted proxy\'s X-Forwarded-* are kept and appended to on a WebSocket handshake', async (t) => {
  const { ws, port } = await setUp(t, { trustedProxies: ['127.0.0.1'] })
  expectKept(t, await handshake(t, port, ws), '127.0.0.1')
})

t.test('a trusted proxy that sends none gets the router\'s own set', async (t) => {
  const { http, port, url } = await setUp(t, { trustedProxies: ['127.0.0.1/32'] })
  await httpGet(`${url}/svc/ui/x`)
  t.match(http.seen[0]?.headers, { 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': `127.0.0.1:${port}`, 'x-forwarded-prefix': '/svc/ui' })
})

/** Whether this machine can listen on ::1 (some containers have no IPv6 loopback). */
const hasIpv6Loopback = await new Promise<boolean>((resolve) => {
  const probe = createServer()
  probe.once('error', () => resolve(false))
  probe.listen(0, '::1', () => probe.close(() => resolve(true)))
})

t.test('an IPv6 trusted proxy is matched by its CIDR', { skip: hasIpv6Loopback ? false : 'no IPv6 loopback here' }, async (t) => {
  const dir = makeTempDir(t)
  const http = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir, listen: [parseListenAddress('[::1]:0')], trustedProxies: ['::1/128'] })
  await httpGet(`http://[::1]:${port}/svc/ui/x`, { headers: CLAIMS })
  t.equal(http.seen[0]?.headers['x-forwarded-for'], '203.0.113.7, ::1')
})

t.test('unix-listener clients count as trusted: their X-Forwarded-* are kept', async (t) => {
  const dir = makeTempDir(t)
  const http = await startBackend(t, join(dir, 's', 'svc', 'ui.sock'))
  const listenPath = join(dir, 'router.sock')
  await startTestRouter(t, { socketDir: join(dir, 's'), listen: [parseListenAddress(`unix:${listenPath}`)] })
  const res = await httpGet('http://localhost/svc/ui/x', { socketPath: listenPath, headers: CLAIMS })
  t.equal(res.status, 200)
  expectKept(t, http.seen[0]?.headers ?? {}, null)
})

t.test('--trusted-proxy takes IPv4 and IPv6 CIDRs and addresses, repeated or from the env var', async (t) => {
  t.same(parseOptions(['--trusted-proxy', '10.0.0.0/8', '--trusted-proxy', 'fd00::/8']).trustedProxies, ['10.0.0.0/8', 'fd00::/8'])
  t.same(parseOptions([], { SOCKROUTER_TRUSTED_PROXY: '192.0.2.7, ::1,[2001:db8::1]' }).trustedProxies, ['192.0.2.7', '::1', '[2001:db8::1]'])
  t.same(parseOptions([], {}).trustedProxies, [])
  for (const bad of ['10.0.0.0/33', 'fd00::/129', 'example.com', '10.0.0/8', '1.2.3.4/8/9', '10.0.0.0/-1']) {
    t.throws(() => parseOptions(['--trusted-proxy', bad]), { code: 'usage', message: /^--trusted-proxy: / }, bad)
  }
  const proxies = new TrustedProxies(['10.0.0.0/8', 'fd00::/8', '192.0.2.7'].map((s) => parseProxyRange(s)).filter((r) => r !== null))
  t.ok(proxies.trusts('10.200.0.1'))
  t.ok(proxies.trusts('::ffff:10.1.2.3'), 'an IPv4-mapped address from a dual-stack listener')
  t.ok(proxies.trusts('fd12::5'))
  t.ok(proxies.trusts('192.0.2.7'))
  t.notOk(proxies.trusts('192.0.2.8'))
  t.notOk(proxies.trusts('127.0.0.1'))
  t.ok(proxies.trusts(undefined), 'a unix-listener client')
})
