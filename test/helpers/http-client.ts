import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { DEADLINE_MS } from './wait-for.js'

export interface HttpResult {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly rawHeaders: readonly string[]
  readonly body: Buffer
  readonly text: string
}

export interface HttpOptions {
  method?: string
  headers?: OutgoingHttpHeaders
  body?: Buffer | string
  socketPath?: string
}

/** A plain node:http request with no agent, so no connection is shared between tests. */
export function httpGet (url: string, options: HttpOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false, socketPath: options.socketPath }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString() })
      })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/**
 * Writes raw bytes and returns everything the router sends back until it
 * closes the connection or `idleMs` pass without data. fetch and node:http
 * normalise paths, so path-attack tests need this. For an answer the router
 * does not follow with a close (keep-alive), use `rawResponses`: it waits for
 * the responses themselves, not for a quiet spell.
 */
export function rawExchange (port: number, payload: string, idleMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const finish = (): void => { socket.destroy(); resolve(Buffer.concat(chunks).toString('latin1')) }
    socket.setTimeout(idleMs, finish)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('end', finish)
    socket.on('close', finish)
    socket.on('error', reject)
    socket.write(payload)
  })
}

/** Status code of the first response in a raw exchange. */
export function statusOf (raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0)
}

/**
 * Where the response starting at `from` ends, or -1 while it is incomplete.
 * Framing per RFC 9112 §6.3: no body for 1xx, 204 and 304 (a 101 ends the
 * HTTP exchange: what follows is the tunnel), else Transfer-Encoding chunked,
 * else Content-Length; a response framed by the close is complete only then.
 */
function responseEnd (raw: string, from: number): number {
  const headEnd = raw.indexOf('\r\n\r\n', from)
  if (headEnd === -1) return -1
  const head = raw.slice(from, headEnd)
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
  const bodyStart = headEnd + 4
  if ((status >= 100 && status < 200) || status === 204 || status === 304) return bodyStart
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
    let at = bodyStart
    for (;;) {
      const lineEnd = raw.indexOf('\r\n', at)
      if (lineEnd === -1) return -1
      const size = parseInt(raw.slice(at, lineEnd), 16)
      if (Number.isNaN(size)) return -1
      if (size === 0) {
        const trailersEnd = raw.indexOf('\r\n\r\n', lineEnd)
        return trailersEnd === -1 ? -1 : trailersEnd + 4
      }
      at = lineEnd + 2 + size + 2
      if (at > raw.length) return -1
    }
  }
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1]
  if (length === undefined) return -1
  const end = bodyStart + Number(length)
  return end <= raw.length ? end : -1
}

export interface RawResponsesOptions {
  /** Complete responses to wait for, interim (1xx) ones included. */
  readonly responses?: number
  readonly timeoutMs?: number
}

/**
 * Writes raw bytes and resolves with what the router sent, once it has sent
 * `responses` complete responses or closed the connection, whichever comes
 * first. No idle timer: a router that neither answers nor closes fails the
 * deadline instead of passing for silence.
 */
export function rawResponses (port: number, payload: string | Buffer, options: RawResponsesOptions = {}): Promise<string> {
  const wanted = options.responses ?? 1
  const timeoutMs = options.timeoutMs ?? DEADLINE_MS
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let raw = ''
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`${countResponses(raw)} of ${wanted} responses within ${timeoutMs} ms: ${JSON.stringify(raw.slice(0, 200))}`)) }, timeoutMs)
    const finish = (): void => { clearTimeout(timer); socket.destroy(); resolve(raw) }
    socket.on('data', (c: Buffer) => {
      raw += c.toString('latin1')
      if (countResponses(raw) >= wanted) finish()
    })
    socket.on('end', finish)
    socket.on('close', finish)
    socket.on('error', (err) => { clearTimeout(timer); reject(err) })
    socket.write(payload)
  })
}

function countResponses (raw: string): number {
  let count = 0
  let at = 0
  while (at < raw.length) {
    const end = responseEnd(raw, at)
    if (end === -1) break
    count++
    if (/^HTTP\/1\.[01] 101/.test(raw.slice(at, at + 12))) break
    at = end
  }
  return count
}
