import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'
import { isHttp2Request } from './is-http2-request.js'

/**
 * RFC 9112 §6.3: a request has a body if and only if it has Transfer-Encoding
 * or a Content-Length; its method does not matter, so GET and HEAD bodies go
 * to the backend too (issue #10, "Bytes changed"). HTTP/2 needs no
 * Content-Length (RFC 9113 §8.1.1): there a body is whatever DATA frames come
 * before END_STREAM (issue #13).
 */
export function hasBody (req: IncomingMessage | Http2ServerRequest): boolean {
  if (isHttp2Request(req)) return !req.stream.endAfterHeaders
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}
