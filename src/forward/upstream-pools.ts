import { Agent, Pool, type Dispatcher } from 'undici'
import type { RouteTable } from '../routing/route-types.js'
import { GatewayError } from './gateway-errors.js'

export interface UpstreamPoolOptions {
  /** Time allowed for the unix-socket connect. */
  readonly connectTimeoutMs: number
  /** Time allowed for the response head; the body has no timeout (SSE). */
  readonly headersTimeoutMs: number
}

/** What the HTTP forwarder attaches to each request for the dispatcher. */
export interface UpstreamRequest {
  /** The pool's origin, from the route's upstream. */
  readonly origin: string
  /** Path and query exactly as they go on the wire. */
  readonly path: string
  readonly signal: AbortSignal
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

/**
 * One undici Agent; its factory gives each route's socket a keep-alive Pool
 * with its own `socketPath` (issue #2). `sync` follows the route table: pools
 * of sockets that are gone are closed, letting in-flight requests finish.
 * A socket re-created by a new process has a new origin, so it gets a fresh
 * pool and never inherits connections to the dead process.
 */
export class UpstreamPools {
  readonly #socketPaths = new Map<string, string>()
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
    const pool = new Pool(origin, {
      ...opts,
      socketPath: this.#socketPaths.get(origin),
      connectTimeout: this.#options.connectTimeoutMs,
      headersTimeout: this.#options.headersTimeoutMs,
      // undici's 300 s default body timeout kills quiet SSE streams (issue #2).
      bodyTimeout: 0
    })
    this.#pools.set(origin, pool)
    return pool
  }

  /** Makes the pools match the table: new sockets become known, removed ones are closed. */
  sync (table: RouteTable): void {
    const live = new Map<string, string>()
    for (const route of table.routes) live.set(route.upstream.origin, route.upstream.socketPath)
    for (const [origin, socketPath] of live) this.#socketPaths.set(origin, socketPath)
    for (const [origin, pool] of this.#pools) {
      if (pool.closed || pool.destroyed) this.#pools.delete(origin)
    }
    for (const origin of [...this.#socketPaths.keys()]) {
      if (live.has(origin)) continue
      this.#socketPaths.delete(origin)
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
    if (upstream === undefined || !this.#socketPaths.has(upstream.origin)) {
      // The route was removed between lookup and dispatch.
      queueMicrotask(() => callback(new GatewayError('bad_gateway')))
      return
    }
    this.#agent.request({
      ...opts,
      origin: upstream.origin,
      path: upstream.path,
      signal: upstream.signal,
      headersTimeout: undefined,
      bodyTimeout: undefined
    }, callback)
  }

  async close (): Promise<void> {
    await this.#agent.destroy().catch(() => {})
    this.#pools.clear()
    this.#socketPaths.clear()
  }
}
