import t from 'tap'
import { formatHttpAuthority, parseHost } from '../../src/routing/parse-host.js'

t.test('parseHost accepts uri-host [ ":" port ] and nothing else (RFC 9110 §7.2)', async (t) => {
  t.same(parseHost('LocalHost:7600'), { hostname: 'localhost', ipv6: false, port: 7600 })
  t.same(parseHost('127.0.0.1'), { hostname: '127.0.0.1', ipv6: false, port: null })
  t.same(parseHost('[::1]:80'), { hostname: '::1', ipv6: true, port: 80 })
  t.same(parseHost('[::FFFF:127.0.0.1]'), { hostname: '::ffff:127.0.0.1', ipv6: true, port: null })
  t.same(parseHost('app.localhost:'), { hostname: 'app.localhost', ipv6: false, port: null }, 'an empty port is no port (RFC 3986 §3.2.3)')
  t.same(parseHost('a_b-c.d~e.:65535'), { hostname: 'a_b-c.d~e.', ipv6: false, port: 65535 })
  for (const bad of ['', ':80', '127.0.0.1:7600@evil.com', 'user@host', '127.0.0.1:abc', 'localhost:99999', 'localhost:000080',
    'a b', 'a%2eb', 'a!b', '[::1', '::1', '[::1]x', '[v1.x]', '[127.0.0.1]', 'h:1:2', 'h/x', 'h?x', 'h#x', 'h\\x', 'é.example']) {
    t.equal(parseHost(bad), null, JSON.stringify(bad))
  }
})

t.test('formatHttpAuthority prints what a WHATWG URL prints as host for an http origin', async (t) => {
  for (const value of ['localhost', 'localhost:80', 'localhost:7600', '[::1]:7600', '[::1]:80', '127.0.0.1:1']) {
    const parsed = parseHost(value)
    if (parsed === null) throw new Error(value)
    t.equal(formatHttpAuthority(parsed), new URL(`http://${value}`).host, value)
  }
})
