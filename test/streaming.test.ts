import { createHash, randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { join } from 'node:path'
import { once } from 'node:events'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'

const MiB = 1024 * 1024

t.test('an 8 MiB upload streams through with its hash intact', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'up.sock'), (req, res) => {
    const hash = createHash('sha256')
    let bytes = 0
    req.on('data', (c: Buffer) => { hash.update(c); bytes += c.length })
    req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex'), te: req.headers['transfer-encoding'] ?? null })))
  })
  const { url } = await startTestRouter(t, { socketDir: dir })
  const payload = randomBytes(8 * MiB)
  const expected = createHash('sha256').update(payload).digest('hex')

  const fixed = await httpGet(`${url}/svc/up/`, { method: 'POST', body: payload, headers: { 'content-type': 'application/octet-stream', 'content-length': payload.length } })
  t.same(JSON.parse(fixed.text), { bytes: 8 * MiB, sha256: expected, te: null }, 'content-length upload')

  // A chunked upload with a JSON content type must not be parsed or limited.
  const chunked = await new Promise<string>((resolve, reject) => {
    const req = request(`${url}/svc/up/`, { method: 'PUT', agent: false, headers: { 'content-type': 'application/json', expect: '100-continue' } }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => resolve(Buffer.concat(parts).toString()))
    })
    req.on('error', reject)
    req.on('continue', () => {
      for (let i = 0; i < 8; i++) req.write(payload.subarray(i * MiB, (i + 1) * MiB))
      req.end()
    })
  })
  t.same(JSON.parse(chunked), { bytes: 8 * MiB, sha256: expected, te: 'chunked' }, 'chunked upload with Expect: 100-continue')
})

t.test('a 10 MiB download arrives whole', async (t) => {
  const dir = makeTempDir(t)
  const blob = randomBytes(10 * MiB)
  await startBackend(t, join(dir, 'svc', 'dl.sock'), (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    let i = 0
    const pump = (): void => {
      while (i < 10) {
        const ok = res.write(blob.subarray(i * MiB, (i + 1) * MiB))
        i++
        if (!ok) { res.once('drain', pump); return }
      }
      res.end()
    }
    pump()
  })
  const { url } = await startTestRouter(t, { socketDir: dir })
  const res = await httpGet(`${url}/svc/dl/blob`)
  t.equal(res.status, 200)
  t.equal(res.body.length, 10 * MiB)
  t.ok(res.body.equals(blob), 'same bytes')
})

t.test('SSE events reach the client one by one, not buffered', async (t) => {
  const dir = makeTempDir(t)
  const gaps: (() => void)[] = []
  await startBackend(t, join(dir, 'svc', 'sse.sock'), (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    let n = 0
    const send = (): void => {
      res.write(`data: ${++n}\n\n`)
      if (n === 3) res.end()
    }
    send()
    // The backend sends the next event only when the test says so, so a
    // buffering proxy would deadlock the test instead of passing it.
    gaps.push(send, send)
  })
  const { url } = await startTestRouter(t, { socketDir: dir })
  const req = request(`${url}/svc/sse/events`, { agent: false })
  req.end()
  const [res] = await once(req, 'response') as [import('node:http').IncomingMessage]
  t.equal(res.headers['content-type'], 'text/event-stream')
  const received: string[] = []
  res.setEncoding('utf8')
  for await (const chunk of res) {
    received.push(...String(chunk).split('\n\n').filter((s) => s !== ''))
    const next = gaps.shift()
    if (next !== undefined) next()
  }
  t.same(received, ['data: 1', 'data: 2', 'data: 3'])
})

t.test('a client that goes away aborts the upstream request', async (t) => {
  const dir = makeTempDir(t)
  let upstreamClosed: () => void = () => {}
  const closed = new Promise<void>((resolve) => { upstreamClosed = resolve })
  let headersSent: () => void = () => {}
  const started = new Promise<void>((resolve) => { headersSent = resolve })
  await startBackend(t, join(dir, 'svc', 'sse.sock'), (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: hello\n\n')
    headersSent()
    res.on('close', () => upstreamClosed())
    void req
  })
  const { url, waitForLog } = await startTestRouter(t, { socketDir: dir })
  const req = request(`${url}/svc/sse/`, { agent: false })
  req.end()
  const [res] = await once(req, 'response') as [import('node:http').IncomingMessage]
  await started
  res.once('data', () => req.destroy())
  await closed
  t.pass('backend saw the connection close')
  t.match(await waitForLog((l) => l.msg === 'request'), { status: 200, aborted: true, service: 'svc' })
})

t.test('a client that leaves before the response head aborts the upstream request', async (t) => {
  const dir = makeTempDir(t)
  let upstreamClosed: () => void = () => {}
  const closed = new Promise<void>((resolve) => { upstreamClosed = resolve })
  let arrived: () => void = () => {}
  const reached = new Promise<void>((resolve) => { arrived = resolve })
  await startBackend(t, join(dir, 'svc', 'slow.sock'), (_req, res) => {
    res.on('close', () => upstreamClosed())
    arrived()
  })
  const { url, waitForLog } = await startTestRouter(t, { socketDir: dir })
  const req = request(`${url}/svc/slow/`, { agent: false })
  req.on('error', () => {})
  req.end()
  await reached
  req.destroy()
  await closed
  t.pass('backend saw the abort before it answered')
  t.match(await waitForLog((l) => l.msg === 'request'), { status: 499, aborted: true })
  t.equal((await httpGet(`${url}/_sockrouter/health`)).status, 200, 'router still serving')
})
