import type { Server } from 'node:http'
import { ROUTER_DEFAULTS } from '../config/router-defaults.js'
import type { ConnectionLimiter } from './connection-limiter.js'
import { applyRequestTimeouts, type RequestTimeouts } from './request-timers.js'

/** What bounds one client's hold on the router (issue #10, defect 8); the limiter is shared by every listener. */
export interface ClientBounds extends RequestTimeouts {
  /** Null: no connection cap (tests that build a server alone). */
  readonly connections: ConnectionLimiter | null
}

export const DEFAULT_CLIENT_BOUNDS: ClientBounds = {
  connections: null,
  headerTimeoutMs: ROUTER_DEFAULTS.headerTimeoutMs,
  bodyIdleTimeoutMs: ROUTER_DEFAULTS.bodyIdleTimeoutMs
}

/**
 * Call once per listener, right after createServer, before anything else
 * listens for `connection`. `answer`: whether a refused connection gets a raw
 * 503 (cleartext HTTP/1.x) or is just closed (TLS, issue #13).
 */
export function applyClientBounds (server: Server, bounds: ClientBounds, answer = true): void {
  bounds.connections?.guard(server, answer)
  applyRequestTimeouts(server, bounds)
}
