import { Readable } from 'node:stream'
import { buildConnector, Pool, type Dispatcher } from 'undici'
import type { FastifyBaseLogger } from 'fastify'
import type { RouteHealth } from '../health/route-health.js'
import type { Route, RouteTable, Upstream } from '../routing/route-types.js'
import { routeLogFields } from '../logging/route-log-fields.js'
import { trackDelivery } from './delivery-tracker.js'
import { GatewayError } from './gateway-errors.js'
import { ReplayableBody } from './replayable-body.js'
import { ATTEMPT_CONTEXT, attemptInterceptor, type AttemptContext } from './upstream-attempts.js'

export interface UpstreamPoolOptions {
  /** Time allowed for the connect, unless the route sets its own. */
  readonly connectTimeoutMs: number
  /** Time allowed for the response head, unless the route sets its own; the body has no timeout (SSE). */
  readonly headersTimeoutMs: number
  /** Where a retry of a request that never left is logged. */
  readonly logger?: FastifyBaseLogger
  /** Passive health (issue #12): each route's responses and refused connects are reported here. */
  readonly health?: RouteHealth
}

/** What the HTTP forwarder attaches to each request for the dispatcher. */
export interface UpstreamRequest {
  /** The pool's key, from the route's upstream. */
  readonly origin: string
  /** Path and query exactly as they go on the wire. */
  readonly path: string
  /** Emits `abort` if the client leaves first (see http-forwarder.ts); null for none. */
  readonly signal: Dispatcher.RequestOptions['signal']
  /** The route's own upstream timeout, if it has one. */
  readonly headersTimeoutMs: number | undefined
  /** The client's body as the raw request stream, for any method (reply-from sends none for GET and HEAD). */
  readonly body?: Dispatcher.RequestOptions['body']
  /** For the retry log line. */
  readonly reqId?: string
  readonly route?: Route
}

/**
 * reply-from hands its request options to `request()`; the forwarder rides its
 * own data along on the headers object under this symbol (Object.keys skips
 * symbols, so undici never sends it). That keeps the path byte for byte as
 * received: reply-from would otherwise rebuild it with `new URL`, which
 * resolves dot-segments and turns `\` into `/`.
 */
export const UPSTREAM_REQUEST: unique symbol = Symbol('sockrouter.upstreamRequest')

type RequestOptions = Dispatcher.RequestOptions & { headers?: Record<string | symbol, unknown>, [ATTEMPT_CONTEXT]?: AttemptContext }
type RequestCallback = (err: Error | null, data?: Dispatcher.ResponseData) => void

/** One generation of a route target's pool: replaced, never mutated, when the target or its connect timeout changes. */
interface PoolEntry {
  readonly upstream: Upstream
  readonly connectTimeoutMs: number
  /** Created on the first request, so an unused route holds nothing. */
  pool: Pool | null
  dispatcher: Dispatcher | null
}

/**
 * undici keeps a connection this much short of the backend's
 * `Keep-Alive: timeout=N` (its keep-alive timer is a native, precise one),
 * and never reuses one when N is no longer than this.
 */
const KEEP_ALIVE_MARGIN_MS = 1_000

/**
 * A keep-alive Pool per route target (issue #2), kept in a Map of our own
 * (issue #10). undici's Agent cached pools by origin and kept a closed pool
 * under it until its connections drained: a route removed and restored while
 * an SSE stream stayed open answered 502 until the stream closed, because its
 * origin came back the same. Here a removed route's entry is dropped at once
 * and its pool closed (in-flight requests and streams finish on it), and a
 * route that comes back, or whose target or `timeouts.connect` changed, gets
 * a new entry and a new Pool: it serves at once, and a live route is never
 * sent to a closed pool.
 */
export class UpstreamPools {
  readonly #entries = new Map<string, PoolEntry>()
  readonly #options: UpstreamPoolOptions

  constructor (options: UpstreamPoolOptions) {
    this.#options = options
  }

  #createPool (entry: PoolEntry): Dispatcher {
    const { upstream } = entry
    const connector = buildConnector({
      socketPath: upstream.kind === 'unix' ? upstream.socketPath : undefined,
      timeout: entry.connectTimeoutMs
    })
    const pool = new Pool(upstream.kind === 'url' ? upstream.targetOrigin : 'http://localhost', {
      connect: (opts, callback) => connector(opts, (err, socket) => {
        if (socket != null) trackDelivery(socket)
        ;(callback as (...args: unknown[]) => void)(err, socket)
      }),
      // Our own precise timer replaces undici's coarse one (upstream-attempts.ts).
      headersTimeout: 0,
      // undici's 300 s default body timeout kills quiet SSE streams (issue #2).
      bodyTimeout: 0,
      keepAliveTimeoutThreshold: KEEP_ALIVE_MARGIN_MS
    })
    entry.pool = pool
    entry.dispatcher = pool.compose(attemptInterceptor as never)
    return entry.dispatcher
  }

  /** Makes the pools match the table: new or changed targets get a fresh entry, removed ones are closed. */
  sync (table: RouteTable): void {
    const live = new Map<string, PoolEntry>()
    for (const route of table.routes) {
      if (route.status !== 'up') continue
      const connectTimeoutMs = route.options.timeouts.connectMs ?? this.#options.connectTimeoutMs
      live.set(route.upstream.origin, { upstream: route.upstream, connectTimeoutMs, pool: null, dispatcher: null })
    }
    for (const [origin, entry] of this.#entries) {
      const next = live.get(origin)
      if (next !== undefined && next.connectTimeoutMs === entry.connectTimeoutMs && sameTarget(next.upstream, entry.upstream)) continue
      this.#entries.delete(origin)
      entry.pool?.close().catch(() => {})
    }
    for (const [origin, entry] of live) {
      if (!this.#entries.has(origin)) this.#entries.set(origin, entry)
    }
  }

  /** Pools created for the routes in the table, for tests and the health view. */
  get poolCount (): number {
    let open = 0
    for (const entry of this.#entries.values()) if (entry.pool !== null) open++
    return open
  }

  /** The `request` reply-from calls when given this object as its `undici` option. */
  request (opts: RequestOptions, callback: RequestCallback): void {
    const upstream = opts.headers?.[UPSTREAM_REQUEST] as UpstreamRequest | undefined
    const entry = upstream === undefined ? undefined : this.#entries.get(upstream.origin)
    if (upstream === undefined || entry === undefined) {
      // The route was removed between lookup and dispatch.
      queueMicrotask(() => callback(new GatewayError('bad_gateway')))
      return
    }
    const dispatcher = entry.dispatcher ?? this.#createPool(entry)
    // reply-from builds these options afresh for each attempt, so they are ours to fill in.
    opts.path = upstream.path
    opts.signal = upstream.signal
    opts.bodyTimeout = undefined
    opts.headersTimeout = undefined
    const source = upstream.body ?? opts.body
    const body = source instanceof Readable ? new ReplayableBody(source) : null
    if (body !== null) opts.body = undefined
    opts[ATTEMPT_CONTEXT] = new ForwardedAttempt(upstream, body, this.#options)
    dispatcher.request(opts, callback)
  }

  async close (): Promise<void> {
    const entries = [...this.#entries.values()]
    this.#entries.clear()
    await Promise.all(entries.map(async (entry) => await entry.pool?.destroy().catch(() => {})))
  }
}

/**
 * One forwarded request's AttemptContext. A class, not an object literal with
 * two arrow functions: its methods are shared, so a request makes no
 * closures here (issue #14, docs/hot-path.md, change 2).
 */
class ForwardedAttempt implements AttemptContext {
  readonly headersTimeoutMs: number
  readonly body: ReplayableBody | null
  readonly service: string | undefined
  readonly health: RouteHealth | undefined
  readonly prefix: string | undefined
  readonly #upstream: UpstreamRequest
  readonly #logger: FastifyBaseLogger | undefined

  constructor (upstream: UpstreamRequest, body: ReplayableBody | null, options: UpstreamPoolOptions) {
    this.headersTimeoutMs = upstream.headersTimeoutMs ?? options.headersTimeoutMs
    this.body = body
    this.service = upstream.route?.service
    this.health = options.health
    this.prefix = upstream.route?.prefix
    this.#upstream = upstream
    this.#logger = options.logger
  }

  clientGone (): boolean {
    return (this.#upstream.signal as { aborted?: boolean } | null | undefined)?.aborted === true
  }

  onRetry (cause: string | undefined, retry: number): void {
    this.#logger?.warn({
      reqId: this.#upstream.reqId,
      ...routeLogFields(this.#upstream.route),
      cause,
      retry
    }, 'upstream request retried: it never reached the service')
  }
}

function sameTarget (a: Upstream, b: Upstream): boolean {
  if (a.kind === 'unix' && b.kind === 'unix') return a.socketPath === b.socketPath
  if (a.kind === 'url' && b.kind === 'url') return a.targetOrigin === b.targetOrigin
  return false
}
