import t from 'tap'
import { addForwardedHeaders } from '../../src/forward/forwarded-headers.js'
import { connectionListedHeaders, hasToken, stripHopHeaders, stripRequestHopHeaders } from '../../src/forward/hop-headers.js'

t.test('Connection-listed headers go first, then the fixed list', async (t) => {
  const out = stripHopHeaders({
    connection: 'Keep-Alive, X-A , x-b',
    'keep-alive': 'timeout=5',
    'x-a': '1',
    'x-b': '2',
    'x-c': '3',
    upgrade: 'websocket',
    'proxy-authorization': 'Basic x',
    te: 'trailers, gzip',
    trailer: 'x',
    'transfer-encoding': 'chunked'
  })
  t.same(out, { 'x-c': '3', te: 'trailers' })
})

t.test('arrays and odd casing are handled', async (t) => {
  t.same(connectionListedHeaders({ connection: ['a', 'B, c'] }), ['a', 'b', 'c'])
  t.same(connectionListedHeaders({}), [])
  t.ok(hasToken('Upgrade, keep-alive', 'upgrade'))
  t.notOk(hasToken(undefined, 'upgrade'))
  t.same(stripHopHeaders({ 'Set-Cookie': ['a', 'b'], 'X-Num': 5, gone: undefined }), { 'set-cookie': ['a', 'b'], 'x-num': 5 })
})

t.test('request stripping also drops Expect', async (t) => {
  t.same(stripRequestHopHeaders({ expect: '100-continue', host: 'h' }), { host: 'h' })
})

t.test('X-Forwarded-* are added after stripping', async (t) => {
  t.same(addForwardedHeaders({ 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'] }, { clientAddress: '3.3.3.3', trusted: true, proto: 'http', host: 'h', prefix: '/a/b' }), {
    'x-forwarded-for': '1.1.1.1, 2.2.2.2, 3.3.3.3',
    'x-forwarded-proto': 'http',
    'x-forwarded-host': 'h',
    'x-forwarded-prefix': '/a/b'
  })
  t.same(addForwardedHeaders({ 'x-forwarded-host': 'spoofed' }, { clientAddress: undefined, trusted: false, proto: 'http', host: undefined, prefix: '/a' }), {
    'x-forwarded-proto': 'http',
    'x-forwarded-prefix': '/a'
  }, 'no address adds no X-Forwarded-For, and an untrusted X-Forwarded-Host goes')
})
