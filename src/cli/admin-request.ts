import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { ListenAddress } from '../listen/listen-address.js'

/**
 * A request from `sockrouter routes` or `top` to the router's own admin
 * surface at `address`: over its unix socket, plain TCP, or TLS on an
 * https:// listener (issue #13). The router's certificate is often
 * self-signed and made for another name than the address typed here, so it
 * is not verified, as `curl -k` would not: these commands only read.
 */
export function adminRequest (address: ListenAddress, options: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest {
  if (address.kind === 'unix') return httpRequest({ ...options, socketPath: address.path }, onResponse)
  const target = { ...options, host: address.host, port: address.port }
  if (address.scheme === 'https') return httpsRequest({ ...target, rejectUnauthorized: false }, onResponse)
  return httpRequest(target, onResponse)
}
