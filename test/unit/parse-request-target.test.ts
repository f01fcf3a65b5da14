import t from 'tap'
import { GatewayError } from '../../src/forward/gateway-errors.js'
import { decodeNameSegment, parseRequestTarget } from '../../src/routing/parse-request-target.js'

t.test('splits path, query and segment ends without decoding', async (t) => {
  t.same(parseRequestTarget('/a/b%2F/c?x=%2F'), { rawPath: '/a/b%2F/c', query: '?x=%2F', segments: ['a', 'b%2F', 'c'], segmentEnds: [2, 7, 9] })
  t.same(parseRequestTarget('/').segments, [''])
  t.same(parseRequestTarget('/a/').segments, ['a', ''])
  t.equal(parseRequestTarget('/a?').query, '?')
})

t.test('absolute-form keeps only path and query', async (t) => {
  t.equal(parseRequestTarget('http://h:1/a/b?q').rawPath, '/a/b')
  t.equal(parseRequestTarget('http://h:1/a/b?q').query, '?q')
  t.equal(parseRequestTarget('https://h').rawPath, '/')
  t.equal(parseRequestTarget('http://h?x').query, '?x')
})

t.test('refuses dot-segments and non-path targets', async (t) => {
  for (const target of ['/a/../b', '/a/./b', '/%2e', '/a/%2E%2E', '/a/.%2e', '*', 'a/b', '']) {
    t.throws(() => parseRequestTarget(target), GatewayError, target)
  }
  for (const target of ['/a/...', '/a/.b', '/a/b.', '/a/%2e%2e%2e']) {
    t.doesNotThrow(() => parseRequestTarget(target), target)
  }
})

t.test('name segments decode, but never to a slash, backslash or NUL', async (t) => {
  t.equal(decodeNameSegment('svc'), 'svc')
  t.equal(decodeNameSegment('%73vc'), 'svc')
  for (const bad of ['a%2Fb', 'a%5cb', 'a\\b', 'a%00', '%zz', '%']) {
    const err = t.throws(() => decodeNameSegment(bad)) as GatewayError
    t.equal(err.code, 'bad_request', bad)
  }
})
