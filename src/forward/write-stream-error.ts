import type { Http2ServerResponse } from 'node:http2'
import { toErrorBody, type GatewayError } from './gateway-errors.js'

/**
 * Answers an HTTP/2 stream that never reaches Fastify (a CONNECT, issue #13)
 * with the same JSON body and headers as writeRawError gives HTTP/1.1, minus
 * what HTTP/2 forbids (`Connection`, RFC 9113 §8.2.2): ending the stream
 * ends only this request, never the connection.
 */
export function writeStreamError (res: Http2ServerResponse, err: GatewayError, onWritten?: () => void): void {
  if (res.headersSent || res.stream.destroyed) {
    res.stream.destroy()
    return
  }
  const body = JSON.stringify(toErrorBody(err))
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store'
  }
  if (err.retryAfter !== undefined) headers['retry-after'] = err.retryAfter
  if (err.code === 'upgrade_required') headers['sec-websocket-version'] = 13
  res.writeHead(err.status, headers)
  res.end(body, onWritten)
}
