import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import { GatewayError, toErrorBody } from '../forward/gateway-errors.js'
import { hasBody } from '../forward/has-body.js'
import { writeStreamError } from '../forward/write-stream-error.js'

export interface RequestTimeouts {
  /** From accept, or from the first byte of a later request on a keep-alive connection, to the end of its head. 0 = off. */
  readonly headerTimeoutMs: number
  /** Longest wait for the next byte of a request body while the router is ready to read it. 0 = off. */
  readonly bodyIdleTimeoutMs: number
}

/**
 * How often a timeout is checked: a twentieth of it, between 10 ms and 1 s,
 * so that it fires at most 5% (and at most 1 s) late. Node checks
 * `headersTimeout` only every `connectionsCheckingInterval`, 30 s by
 * default, which made a documented 60 s measure 74 s (issue #10, defect 8).
 */
export function checkIntervalFor (timeoutMs: number): number {
  return Math.min(1000, Math.max(10, Math.round(timeoutMs / 20)))
}

/**
 * Node's parser clock runs from accept for a new connection and from the
 * first byte of each later request head, and its expiry becomes a
 * `clientError` (ERR_HTTP_REQUEST_TIMEOUT), answered 408 with `Connection:
 * close` by the server's handler, as nginx and HAProxy answer a head that
 * does not arrive in time. A connection that sent nothing at all is closed
 * without a word instead: browsers open such connections ahead of need, and
 * HAProxy (`http-ignore-probes`) closes them silently too.
 */
function applyHeaderTimeout (server: Server, timeoutMs: number): void {
  server.headersTimeout = timeoutMs
  if (timeoutMs === 0) return
  // Documented as a createServer option only, but read when the server starts listening; @types/node lacks the property.
  ;(server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = checkIntervalFor(timeoutMs)
  // Runs before the server's own handler, which leaves a destroyed socket alone.
  server.prependListener('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.bytesRead === 0) socket.destroy()
  })
}

/**
 * The router is waiting on the client, not on a backend, while the body's
 * buffer has room: Node keeps reading the socket until it is full, and stops
 * when the reader upstream (a slow backend) applies backpressure.
 */
function readyToRead (req: IncomingMessage): boolean {
  return req.readableLength < req.readableHighWaterMark
}

/**
 * The forwarder uses the response as the upstream request's abort signal
 * (forward/http-forwarder.ts) and aborts on `close` only if the response is
 * unfinished; a 408 finishes it, so the abort is sent here. `aborted` keeps a
 * retry from going out, as there.
 */
function abortUpstream (this: { aborted?: boolean, emit: (event: 'abort') => boolean }): void {
  this.aborted = true
  this.emit('abort')
}

/**
 * A stalled body (issue #10, defect 8). Before any of the response went out,
 * the client gets 408 with `Connection: close` (RFC 9110 §15.5.9), and the
 * request to the backend is aborted once it is written and logged; after,
 * the connection is just closed, which aborts the backend request too.
 */
function timeOutBody (req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket
  if (res.headersSent || res.writableEnded || !socket.writable) {
    socket.destroy()
    return
  }
  const failure = new GatewayError('request_timeout', { message: 'The request body stalled.' })
  const body = JSON.stringify(toErrorBody(failure))
  res.writeHead(failure.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    connection: 'close'
  })
  // After the access log's `close` listener, so that the log line says 408, not the 499 of the abort.
  res.once('close', abortUpstream)
  res.end(body, () => socket.destroy())
}

/**
 * Polls the socket's byte counter rather than listening for `data`: a
 * `data` listener would switch the body stream to flowing mode under the
 * forwarder's feet. One timer per request with a body, for as long as the
 * body is being received; bodiless requests cost nothing.
 */
function watchBody (req: IncomingMessage, res: ServerResponse, idleMs: number, tickMs: number): void {
  const socket = req.socket
  let lastBytes = socket.bytesRead
  let lastProgress = performance.now()
  const timer = setInterval(() => {
    if (socket.destroyed || req.complete) {
      clearInterval(timer)
      return
    }
    const now = performance.now()
    if (socket.bytesRead !== lastBytes || !readyToRead(req)) {
      lastBytes = socket.bytesRead
      lastProgress = now
      return
    }
    if (now - lastProgress < idleMs) return
    clearInterval(timer)
    timeOutBody(req, res)
  }, tickMs)
  timer.unref()
  req.once('end', () => clearInterval(timer))
}

/**
 * The same body idle timeout for an HTTP/2 stream (issue #13): the stream's
 * own timer, which any frame on it resets, armed only while a body is
 * expected. A stall while the backend is not reading is HTTP/2 flow control
 * doing its job, not the client's fault, and only re-arms the timer. The
 * answer is a 408 on the stream, or RST_STREAM once the response has begun;
 * the connection and its other streams carry on.
 */
export function watchStreamBody (req: Http2ServerRequest, res: Http2ServerResponse, idleMs: number): void {
  const stream = req.stream
  if (idleMs === 0 || !hasBody(req)) return
  stream.setTimeout(idleMs, () => {
    if (req.complete || stream.destroyed) return
    if (!readyToRead(req as unknown as IncomingMessage)) {
      stream.setTimeout(idleMs)
      return
    }
    stream.setTimeout(0)
    if (res.headersSent) {
      stream.close(constants.NGHTTP2_CANCEL)
      return
    }
    res.once('close', abortUpstream)
    // RFC 9113 §8.1: a complete response, then RST_STREAM NO_ERROR asks the client to stop sending the rest.
    writeStreamError(res, new GatewayError('request_timeout', { message: 'The request body stalled.' }), () => stream.close(constants.NGHTTP2_NO_ERROR))
  })
  req.once('end', () => stream.setTimeout(0))
}

/** Both client-side request timeouts on one listener. The response side has none: SSE and long downloads may run forever. */
export function applyRequestTimeouts (server: Server, timeouts: RequestTimeouts): void {
  applyHeaderTimeout(server, timeouts.headerTimeoutMs)
  const idleMs = timeouts.bodyIdleTimeoutMs
  if (idleMs === 0) return
  const tickMs = checkIntervalFor(idleMs)
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (hasBody(req)) watchBody(req, res, idleMs, tickMs)
  })
}
