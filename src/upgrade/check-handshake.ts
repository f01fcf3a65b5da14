import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../forward/gateway-errors.js'
import { hasToken } from '../forward/hop-headers.js'

/** What the later steps need from a request that passed the check. */
export interface Handshake {
  /** The client's Sec-WebSocket-Key, to verify the backend's Sec-WebSocket-Accept. */
  readonly key: string
}

/** RFC 6455 §4.1: a base64-encoded 16-byte nonce is always 24 characters ending in `==`. */
const KEY_FORMAT = /^[A-Za-z0-9+/]{22}==$/

function refuse (message: string): GatewayError {
  return new GatewayError('bad_request', { message })
}

/**
 * Step 1. Only an RFC 6455 §4.1 opening handshake may become a tunnel. Any
 * other upgrade (h2c above all, RFC 9113 §3.1 removed it but clients still
 * send it) never reaches this step: server.ts serves it as plain HTTP with
 * the Upgrade dropped (listen/ignore-upgrade.ts). Should one get here, it is
 * refused with 400 rather than forwarded: a backend that honours h2c behind
 * a proxy that does not understand it is a smuggling channel. A
 * handshake never has a body; one that claims one is refused so that no
 * request bytes can hide behind it.
 */
export function checkHandshake (req: IncomingMessage): Handshake {
  const headers = req.headers
  if (!hasToken(headers.upgrade, 'websocket')) throw refuse('Only WebSocket upgrades are supported.')
  if (req.method !== 'GET') throw refuse('A WebSocket handshake must use GET.')
  // RFC 6455 §4.1 needs HTTP/1.1; re-sending a 1.0 handshake as 1.1 would speak for the client.
  if (req.httpVersion === '1.0' || req.httpVersion === '0.9') throw refuse('A WebSocket handshake needs HTTP/1.1.')
  if (!hasToken(headers.connection, 'upgrade')) throw refuse('A WebSocket handshake needs "Connection: Upgrade".')
  // RFC 6455 §4.4: any other version (or none) gets 426 naming the one spoken here.
  if (headers['sec-websocket-version'] !== '13') throw new GatewayError('upgrade_required')
  const key = headers['sec-websocket-key']
  if (typeof key !== 'string' || !KEY_FORMAT.test(key.trim())) throw refuse('The Sec-WebSocket-Key header is missing or malformed.')
  const length = headers['content-length']
  if ((length !== undefined && length.trim() !== '0') || headers['transfer-encoding'] !== undefined) {
    throw refuse('A WebSocket handshake must not carry a body.')
  }
  return { key: key.trim() }
}
