import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { GatewayError, toErrorBody, type GatewayErrorCode } from './gateway-errors.js'

/**
 * Lines a status needs besides the body. A 426 must name the protocol to
 * switch to, with `upgrade` in Connection (RFC 9110 §15.5.22, §7.8), and for
 * WebSocket the one version the router speaks (RFC 6455 §4.4).
 */
const EXTRA_LINES: Partial<Record<GatewayErrorCode, readonly string[]>> = {
  upgrade_required: ['Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Connection: Upgrade, close']
}

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
    ...(EXTRA_LINES[err.code] ?? ['Connection: close'])
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
