import t from 'tap'
import { formatBytes, formatDuration, formatPrettyLine } from '../../src/logging/pretty-line.js'

const plain = { color: false }
const at = new Date(2026, 0, 2, 12, 0, 1, 234).getTime()

t.test('the access line of the issue, word for word', async (t) => {
  const json = JSON.stringify({ level: 30, time: at, name: 'sockrouter', reqId: 'req-1', method: 'GET', url: '/chat/ui/x', remote: '127.0.0.1', service: 'chat', socket: 'chat/ui.sock', status: 200, ms: 3.24, bytes: 1200, msg: 'request' })
  t.equal(formatPrettyLine(json, plain), '12:00:01.234 GET /chat/ui/x → 200 chat/ui.sock 3.2 ms 1.2 kB\n')
})

t.test('a URL target, an aborted response and no route at all', async (t) => {
  t.equal(formatPrettyLine(JSON.stringify({ level: 30, time: at, method: 'POST', url: '/api/x', upstream: 'http://127.0.0.1:8080', status: 201, ms: 250, bytes: 50, aborted: true, msg: 'request' }), plain),
    '12:00:01.234 POST /api/x → 201 http://127.0.0.1:8080 250 ms 50 B (aborted)\n')
  t.equal(formatPrettyLine(JSON.stringify({ level: 30, time: at, method: 'GET', url: '/nope', status: 404, ms: 0.41, bytes: 120, msg: 'request' }), plain),
    '12:00:01.234 GET /nope → 404 - 0.4 ms 120 B\n')
})

t.test('an HTTP/2 request names its protocol; HTTP/1.1 goes unsaid (issue #13)', async (t) => {
  t.equal(formatPrettyLine(JSON.stringify({ level: 30, time: at, method: 'GET', url: '/chat/ui/x', http: '2', socket: 'chat/ui.sock', status: 200, ms: 3.24, msg: 'request' }), plain),
    '12:00:01.234 GET /chat/ui/x HTTP/2 → 200 chat/ui.sock 3.2 ms\n')
  t.equal(formatPrettyLine(JSON.stringify({ level: 30, time: at, method: 'GET', url: '/x', http: '1.1', status: 404, ms: 1, bytes: 5, msg: 'request' }), plain),
    '12:00:01.234 GET /x → 404 - 1.0 ms 5 B\n')
})

t.test('any other line: time, level, message, key=value, on one line', async (t) => {
  const json = JSON.stringify({ level: 50, time: at, pid: 1, hostname: 'h', name: 'sockrouter', err: { type: 'Error', message: 'boom\nsecond line', code: 'EIO', stack: 'Error: boom\n    at x' }, file: 'services.d/a b.yaml', n: 3, msg: 'rescan failed' })
  t.equal(formatPrettyLine(json, plain), '12:00:01.234 ERROR rescan failed err="EIO: boom\\nsecond line" file="services.d/a b.yaml" n=3\n')
})

t.test('units', async (t) => {
  t.same([formatBytes(0), formatBytes(999), formatBytes(1000), formatBytes(15_300), formatBytes(2_500_000)], ['0 B', '999 B', '1.0 kB', '15 kB', '2.5 MB'])
  t.same([formatDuration(0.25), formatDuration(99.94), formatDuration(1234), formatDuration(65_000)], ['0.3 ms', '99.9 ms', '1234 ms', '65.0 s'])
})

t.test('a line that is not JSON passes through as it is', async (t) => {
  t.equal(formatPrettyLine('not json', plain), 'not json\n')
})
