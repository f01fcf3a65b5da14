import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { GatewayError, toErrorBody } from './gateway-errors.js'

/**
 * Answers on a bare socket, where no ServerResponse exists (parser errors,
 * and later the upgrade branch): a complete HTTP/1.1 response with
 * `Connection: close`, then the socket is ended. Checks `writable` first, as
 * httpxy does, because the peer may already be gone.
 */
export function writeRawError (socket: Duplex, err: GatewayError): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = JSON.stringify(toErrorBody(err))
  const lines = [
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close'
  ]
  if (err.retryAfter !== undefined) lines.push(`Retry-After: ${err.retryAfter}`)
  socket.end(lines.join('\r\n') + '\r\n\r\n' + body)
}

/** Maps Node's HTTP parser failures (the server's `clientError`) to our codes. */
export function clientErrorToGatewayError (err: NodeJS.ErrnoException): GatewayError | null {
  switch (err.code) {
    case 'ECONNRESET':
      return null
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError('headers_too_large')
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GatewayError('request_timeout')
    default:
      return new GatewayError('bad_request')
  }
}
