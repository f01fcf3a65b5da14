/** Headers to set or remove on one side of a route. Names are lower-cased. */
export interface HeaderRules {
  readonly set: Readonly<Record<string, string>>
  readonly remove: readonly string[]
}

export type SpecTarget =
  | { readonly kind: 'socket', readonly socketPath: string }
  | { readonly kind: 'url', readonly origin: string, readonly basePath: string, readonly secure: boolean }

export interface RouteTimeouts {
  readonly connectMs?: number
  readonly upstreamMs?: number
  readonly tunnelIdleMs?: number
}

/** A route's own active health check (issue #12); unset entries fall back to `--health-path` and `--health-interval`. */
export interface RouteHealthCheck {
  readonly path?: string
  /** 0 = not probed. */
  readonly intervalMs?: number
  readonly timeoutMs?: number
}

/** Per-route behaviour; discovered routes get DEFAULT_ROUTE_OPTIONS. */
export interface RouteOptions {
  readonly stripPrefix: boolean
  readonly rewrite: string
  readonly websocket: boolean
  readonly requestHeaders: HeaderRules
  readonly responseHeaders: HeaderRules
  readonly changeOrigin: boolean
  readonly allowedOrigins: readonly string[]
  /** Unset entries fall back to the router-wide flags. */
  readonly timeouts: RouteTimeouts
  readonly maxTunnels: number | null
  readonly rewriteLocation: boolean
  /** false: never probed (passive health still applies). */
  readonly healthCheck: RouteHealthCheck | false
}

/** One validated route from a services.d file, defaults applied. */
export interface RouteSpec extends RouteOptions {
  /** `/chat/ui`: leading slash, no trailing slash. */
  readonly prefix: string
  readonly target: SpecTarget
  /** The file it came from, as shown to users (`services.d/chat.yaml`), and its index there. */
  readonly file: string
  readonly index: number
}

export const NO_HEADER_RULES: HeaderRules = Object.freeze({ set: Object.freeze({}), remove: Object.freeze([]) })

/** The router-wide health check, unchanged. */
export const NO_HEALTH_CHECK: RouteHealthCheck = Object.freeze({})
