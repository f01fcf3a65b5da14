import type { IncomingMessage } from 'node:http'
import { GatewayError } from './gateway-errors.js'

/**
 * Node's parser decodes a chunked body whatever codings precede `chunked`,
 * and Transfer-Encoding is hop-by-hop, so `gzip, chunked` would reach the
 * backend as a plain body with its gzip silently lost (issue #10, "Bytes
 * changed"). Only `chunked` alone can be forwarded faithfully; anything else
 * gets 501, as nginx answers (RFC 9112 §6.1: a server that does not
 * understand a transfer coding SHOULD answer 501). RFC 9112 §6.1 also makes
 * Transfer-Encoding in an HTTP/1.0 request faulty framing: 400.
 */
export function checkTransferCoding (req: Pick<IncomingMessage, 'headers' | 'httpVersionMajor' | 'httpVersionMinor'>): GatewayError | null {
  const value = req.headers['transfer-encoding']
  if (value === undefined) return null
  if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0) {
    return new GatewayError('bad_request', { message: 'An HTTP/1.0 request must not use Transfer-Encoding.' })
  }
  if (value.trim().toLowerCase() === 'chunked') return null
  return new GatewayError('not_implemented', { message: 'Only "Transfer-Encoding: chunked" is supported.' })
}
