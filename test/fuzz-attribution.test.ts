import t from 'tap'
import { caseAddress, forwardedPeer } from './fuzz/case-address.js'
import type { FuzzCase } from './fuzz/case-types.js'
import { FuzzSession } from './fuzz/fuzz-session.js'

const TIMING = { idleMs: 300, closeDeadlineMs: 5000 }

function fuzzCase (index: number, text: string): FuzzCase {
  const bytes = Buffer.from(text, 'latin1')
  return { index, origin: 'test', bytes, mutations: [], mustReject: null, hasHead: text.startsWith('HEAD'), segments: [bytes.length] }
}

t.test('each case has its own loopback address, outside 127.0.0.0/16', async (t) => {
  t.equal(caseAddress(0), '127.1.0.0')
  t.equal(caseAddress(7815), '127.1.30.135')
  t.equal(caseAddress(999_999), '127.16.66.63')
  t.not(caseAddress(7814), caseAddress(7815))
})

t.test('the peer is the last X-Forwarded-For entry, the one the router appends', async (t) => {
  t.equal(forwardedPeer('10.0.0.1, 127.1.30.134'), '127.1.30.134')
  t.equal(forwardedPeer(['10.0.0.1', ' 127.1.0.5']), '127.1.0.5')
  t.equal(forwardedPeer(undefined), null)
})

// Issue #10: in the quick run, case 7814's flip@86 turned its canary-7814-after into canary-7815-after.
t.test('a canary whose index a mutation rewrote is charged to the connection it came on', async (t) => {
  const session = new FuzzSession()
  await session.start()
  t.teardown(() => session.stop())
  const host = `Host: 127.0.0.1:${session.router.port}\r\n`
  const refused = fuzzCase(7815, `GET /fz/b/c7815-r0 HTTP/1.1\r\n\r\nGET /fz/b/canary-7815-after HTTP/1.1\r\n${host}\r\n`)
  const renamer = fuzzCase(7814, `GET /fz/b/canary-7815-after HTTP/1.1\r\n${host}\r\n`)
  // 7815 first: it is running, or already judged, whenever 7814's request reaches the backend.
  const [a, b] = await Promise.all([session.run(refused, TIMING), session.run(renamer, TIMING)])
  await session.settle(300)
  t.match(a.received.toString('latin1'), /^HTTP\/1\.1 400 /, 'case 7815 gets the router\'s 400')
  t.notMatch(a.received.toString('latin1'), /canary/, 'and its own canary is never served')
  t.match(b.received.toString('latin1'), /seen GET \/canary-7815-after/, 'case 7814 gets the canary\'s answer')
  t.same(session.failures, [])
})

t.test('a canary served on a case\'s own connection that its client never saw still counts as smuggled', async (t) => {
  const session = new FuzzSession()
  await session.start()
  t.teardown(() => session.stop())
  // HEAD: the backend's `seen …` body never reaches the client, as for a request the client never knew it sent.
  const hidden = fuzzCase(12, `HEAD /fz/b/canary-12-hidden HTTP/1.1\r\nHost: 127.0.0.1:${session.router.port}\r\n\r\n`)
  await session.run(hidden, TIMING)
  await session.settle(300)
  t.match(session.failures, [{ cls: 'smuggled', index: 12 }])
})
