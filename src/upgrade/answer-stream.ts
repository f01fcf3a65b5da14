import { constants, type Http2ServerResponse, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2'
import type { GatewayError } from '../forward/gateway-errors.js'
import { writeStreamError } from '../forward/write-stream-error.js'
import type { ResponseHead } from './read-response-head.js'
import { relayedHeaders, type Framing } from './relay-response.js'

/** What a confirmed RFC 8441 stream sends before the splice: its answer went out as HEADERS. */
const NO_BYTES = Buffer.alloc(0)

/** The backend's answer fields a confirmed tunnel passes on (RFC 8441 §5 keeps RFC 6455's negotiation). */
const NEGOTIATED = ['sec-websocket-protocol', 'sec-websocket-extensions'] as const

/**
 * After a complete answer, the client's half of the stream is reset with
 * NO_ERROR once the answer is flushed: RFC 9113 §8.1 lets a server stop the
 * rest of a request that way, and a client must keep the response. Unlike a
 * socket (close-client.ts) nothing needs to linger, and the tunnel slot is
 * freed at once. Whatever the client sends meanwhile is read and dropped.
 */
export function endAnsweredStream (stream: ServerHttp2Stream): void {
  stream.on('data', () => {})
  stream.resume()
  if (stream.destroyed) return
  // Ended first: on a stream still open for writing, close() would reset it before queued DATA is sent.
  if (!stream.writableEnded) stream.end()
  stream.close(constants.NGHTTP2_NO_ERROR)
}

/**
 * A refusal by the router on an HTTP/2 stream: the status and the same JSON
 * body as on HTTP/1.1 (forward/write-stream-error.ts), then the stream is
 * ended as any answered one.
 */
export function refuseStream (res: Http2ServerResponse, err: GatewayError): void {
  writeStreamError(res, err)
  endAnsweredStream(res.stream)
}

/**
 * The head of the backend's final answer as HTTP/2 HEADERS: its status,
 * and the fields relay-response.ts keeps (no connection-specific ones,
 * RFC 9113 §8.2.2). Repeated fields are joined with ", " (RFC 9110 §5.3),
 * Set-Cookie excepted; Content-Length is the one the body is framed by.
 */
export function respondRelayed (stream: ServerHttp2Stream, head: ResponseHead, framing: Framing): void {
  const fields = new Map<string, string[]>()
  for (const [name, value] of relayedHeaders(head, framing)) {
    const lower = name.toLowerCase()
    fields.set(lower, [...fields.get(lower) ?? [], value])
  }
  const headers: OutgoingHttpHeaders = { ':status': head.status }
  for (const [name, values] of fields) headers[name] = name === 'set-cookie' ? values : values.join(', ')
  if (framing.kind === 'length') headers['content-length'] = framing.bytes
  stream.respond(headers)
}

/**
 * Answers a verified 101 with `:status 200` (RFC 8441 §5), carrying the
 * subprotocol and extensions the backend chose. Returns no bytes: the
 * splice starts with the backend's first frames.
 */
export function respondTunnelOpen (stream: ServerHttp2Stream, head: ResponseHead): Buffer {
  const headers: OutgoingHttpHeaders = { ':status': 200 }
  for (const name of NEGOTIATED) {
    const values = head.headers.get(name)
    if (values !== undefined) headers[name] = values.join(', ')
  }
  stream.respond(headers)
  return NO_BYTES
}
