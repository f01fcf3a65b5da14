import { Agent, Pool, type Dispatcher } from 'undici'
import type { RouteTable, Upstream } from '../routing/route-types.js'
import { GatewayError } from './gateway-errors.js'

export interface UpstreamPoolOptions {
  /** Time allowed for the connect, unless the route sets its own. */
  readonly connectTimeoutMs: number
  /** Time allowed for the response head, unless the route sets its own; the body has no timeout (SSE). */
  readonly headersTimeoutMs: number
}

/** What the HTTP forwarder attaches to each request for the dispatcher. */
export interface UpstreamRequest {
  /** The pool's origin, from the route's upstream. */
  readonly origin: string
  /** Path and query exactly as they go on the wire. */
  readonly path: string
  /** Emits `abort` if the client leaves first (see http-forwarder.ts); null for none. */
  readonly signal: Dispatcher.RequestOptions['signal']
  /** The route's own upstream timeout, if it has one. */
  readonly headersTimeoutMs: number | undefined
  /** The client's body as the raw request stream, for any method (reply-from sends none for GET and HEAD). */
  readonly body?: Dispatcher.RequestOptions['body']
}

/**
 * reply-from hands its request options to `request()`; the forwarder rides its
 * own data along on the headers object under this symbol (Object.keys skips
 * symbols, so undici never sends it). That keeps the path byte for byte as
 * received: reply-from would otherwise rebuild it with `new URL`, which
 * resolves dot-segments and turns `\` into `/`.
 */
export const UPSTREAM_REQUEST: unique symbol = Symbol('sockrouter.upstreamRequest')

type RequestOptions = Dispatcher.RequestOptions & { headers?: Record<string | symbol, unknown> }
type RequestCallback = (err: Error | null, data?: Dispatcher.ResponseData) => void

interface PoolTarget {
  readonly upstream: Upstream
  readonly connectTimeoutMs: number | undefined
}

/**
 * One undici Agent; its factory gives each route's target a keep-alive Pool
 * (issue #2): a unix socket gets a Pool with its own `socketPath`, a URL
 * target a Pool for that origin. Pools are keyed by the route's synthetic
 * origin, so a socket re-created by a new process gets a fresh pool and never
 * inherits connections to the dead one. `sync` follows the route table:
 * pools whose target left the table are closed, letting in-flight requests
 * finish.
 */
export class UpstreamPools {
  readonly #targets = new Map<string, PoolTarget>()
  readonly #pools = new Map<string, Pool>()
  readonly #agent: Agent
  readonly #options: UpstreamPoolOptions

  constructor (options: UpstreamPoolOptions) {
    this.#options = options
    this.#agent = new Agent({
      factory: (origin, opts) => this.#createPool(String(origin), opts)
    })
  }

  #createPool (origin: string, opts: object): Pool {
    const target = this.#targets.get(origin)
    const upstream = target?.upstream
    const pool = new Pool(upstream?.kind === 'url' ? upstream.targetOrigin : origin, {
      ...opts,
      socketPath: upstream?.kind === 'unix' ? upstream.socketPath : undefined,
      connectTimeout: target?.connectTimeoutMs ?? this.#options.connectTimeoutMs,
      headersTimeout: this.#options.headersTimeoutMs,
      // undici's 300 s default body timeout kills quiet SSE streams (issue #2).
      bodyTimeout: 0
    })
    this.#pools.set(origin, pool)
    return pool
  }

  /** Makes the pools match the table: new targets become known, removed ones are closed. */
  sync (table: RouteTable): void {
    const live = new Map<string, PoolTarget>()
    for (const route of table.routes) {
      if (route.status === 'up') live.set(route.upstream.origin, { upstream: route.upstream, connectTimeoutMs: route.options.timeouts.connectMs })
    }
    for (const [origin, target] of live) this.#targets.set(origin, target)
    for (const [origin, pool] of this.#pools) {
      if (pool.closed || pool.destroyed) this.#pools.delete(origin)
    }
    for (const origin of [...this.#targets.keys()]) {
      if (live.has(origin)) continue
      this.#targets.delete(origin)
      const pool = this.#pools.get(origin)
      this.#pools.delete(origin)
      pool?.close().catch(() => {})
    }
  }

  /** Open pools, for tests and the health view. The Agent closes idle pools on its own, so closed ones are skipped. */
  get poolCount (): number {
    let open = 0
    for (const pool of this.#pools.values()) if (!pool.closed && !pool.destroyed) open++
    return open
  }

  /** The `request` reply-from calls when given this object as its `undici` option. */
  request (opts: RequestOptions, callback: RequestCallback): void {
    const upstream = opts.headers?.[UPSTREAM_REQUEST] as UpstreamRequest | undefined
    if (upstream === undefined || !this.#targets.has(upstream.origin)) {
      // The route was removed between lookup and dispatch.
      queueMicrotask(() => callback(new GatewayError('bad_gateway')))
      return
    }
    // reply-from builds these options afresh for each attempt, so they are ours to fill in.
    opts.origin = upstream.origin
    opts.path = upstream.path
    opts.signal = upstream.signal
    opts.headersTimeout = upstream.headersTimeoutMs
    opts.bodyTimeout = undefined
    if (upstream.body !== undefined) opts.body = upstream.body
    this.#agent.request(opts, callback)
  }

  async close (): Promise<void> {
    await this.#agent.destroy().catch(() => {})
    this.#pools.clear()
    this.#targets.clear()
  }
}
