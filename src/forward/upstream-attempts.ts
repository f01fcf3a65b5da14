import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { RouteHealth } from '../health/route-health.js'
import { announceAttempt, neverSent, type AttemptDelivery } from './delivery-tracker.js'
import { GatewayError, innermostCode } from './gateway-errors.js'
import type { ReplayableBody } from './replayable-body.js'

/** A request that provably never left is sent again at most this often (a pool may hold several dead connections). */
const MAX_RETRIES = 2

/** What the interceptor needs to know about one forwarded request. */
export interface AttemptContext {
  /** Our own response-head deadline in ms; 0 for none. */
  readonly headersTimeoutMs: number
  /** The client's body, when it has one that is a stream. */
  readonly body: ReplayableBody | null
  /** Reports that the client left: nothing more may be sent for it. */
  clientGone (): boolean
  /** The route's service, named in the error a client gets. */
  readonly service: string | undefined
  /** Logs one line per retry. */
  onRetry (cause: string | undefined, retry: number): void
  /** Passive health (issue #12): told of every response and of every request that failed before one. */
  readonly health: RouteHealth | undefined
  /** The route's prefix, the key of its health record. */
  readonly prefix: string | undefined
}

/** The key under which UpstreamPools hands the context to the interceptor on the request options. */
export const ATTEMPT_CONTEXT: unique symbol = Symbol('sockrouter.attemptContext')

type Options = Dispatcher.DispatchOptions & { [ATTEMPT_CONTEXT]?: AttemptContext }
type Dispatch = (opts: Options, handler: Dispatcher.DispatchHandler) => boolean

function isAbort (err: Error): boolean {
  const code = (err as { code?: unknown }).code
  return err instanceof GatewayError || code === 'UND_ERR_ABORTED' || err.name === 'AbortError'
}

/**
 * Sits between reply-from's request and one route's Pool (issue #10):
 *
 * - **Retries only what never left.** An attempt whose request head never
 *   reached the wire (see delivery-tracker.ts) is dispatched again, with its
 *   body replayed, whatever the method: the backend cannot have seen it.
 *   Anything that may have been delivered fails once, so a backend that
 *   closes or resets without answering sees each request once.
 * - **Keeps the upstream deadline on time.** undici's headersTimeout runs on
 *   its fast timers (about 1 s resolution, a tick every 499 ms), so a 2 s timeout fired
 *   at up to 2.5 s. A native timer per request aborts at the figure instead;
 *   like undici's, it starts once the request goes onto a connection.
 * - **Names what the backend broke.** An error after the response head (a bad
 *   chunk size, a reset mid-body) becomes a `bad_gateway` GatewayError, so a
 *   client that has not seen the head yet gets 502, never 500.
 */
class AttemptHandler implements Dispatcher.DispatchHandler {
  readonly #dispatch: Dispatch
  readonly #opts: Options
  readonly #handler: Dispatcher.DispatchHandler
  readonly #context: AttemptContext
  #controller: Dispatcher.DispatchController | null = null
  #delivery: AttemptDelivery | null = null
  #timer: NodeJS.Timeout | null = null
  #timedOut: GatewayError | null = null
  #responded = false
  #retries = 0
  #bodyStream: Readable | null = null

  constructor (dispatch: Dispatch, opts: Options, handler: Dispatcher.DispatchHandler, context: AttemptContext) {
    this.#dispatch = dispatch
    this.#opts = opts
    this.#handler = handler
    this.#context = context
  }

  start (): boolean {
    const body = this.#context.body
    if (body === null) return this.#dispatch(this.#opts, this)
    // Detach a failed attempt first, so two streams never read the same source.
    this.#bodyStream?.destroy()
    this.#bodyStream = body.attempt()
    return this.#dispatch({ ...this.#opts, body: this.#bodyStream }, this)
  }

  onRequestStart (controller: Dispatcher.DispatchController, context: unknown): void {
    this.#controller = controller
    this.#delivery = { bound: false, firstWrite: 'none' }
    announceAttempt(this.#delivery)
    this.#handler.onRequestStart?.(controller, context)
    // A client already gone makes the handler abort right here, and undici reports it (onResponseError) before this
    // returns: a timer started after that would never be cleared, and held the request for the whole header timeout
    // (found by the rapid-reset test, issue #13).
    if (controller.aborted) return
    if (this.#timedOut !== null) controller.abort(this.#timedOut)
    else if (this.#timer === null && this.#context.headersTimeoutMs > 0) {
      this.#timer = setTimeout(() => {
        this.#timedOut = new GatewayError('gateway_timeout', { service: this.#context.service })
        this.#controller?.abort(this.#timedOut)
      }, this.#context.headersTimeoutMs)
    }
  }

  onRequestUpgrade (controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, socket: import('node:stream').Duplex): void {
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket)
  }

  onResponseStart (controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    this.#settle()
    this.#responded = true
    // Any status counts: the backend is there and answering (issue #12).
    const { health, prefix } = this.#context
    if (health !== undefined && prefix !== undefined) health.observeResponse(prefix)
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage)
  }

  onResponseData (controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#handler.onResponseData?.(controller, chunk)
  }

  onResponseEnd (controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    this.#handler.onResponseEnd?.(controller, trailers)
  }

  onResponseError (controller: Dispatcher.DispatchController, err: Error): void {
    if (this.#shouldRetry(err)) {
      this.#retries++
      this.#context.onRetry(innermostCode(err) ?? err.message, this.#retries)
      // undici reports the failure from inside its socket 'close' handler; dispatch once it has finished.
      queueMicrotask(() => this.start())
      return
    }
    this.#settle()
    // An attempt that never got to read the body still listens on the client's stream.
    this.#bodyStream?.destroy()
    // The one place the HTTP path learns that a socket refused or is gone: its route is unreachable at once (issue #12).
    const { health, prefix } = this.#context
    if (!this.#responded && health !== undefined && prefix !== undefined) health.observeFailure(prefix, innermostCode(err))
    const failure = this.#responded && !isAbort(err) ? new GatewayError('bad_gateway', { cause: err, service: this.#context.service }) : err
    this.#handler.onResponseError?.(controller, failure)
  }

  #shouldRetry (err: Error): boolean {
    if (this.#responded || this.#retries >= MAX_RETRIES || isAbort(err) || this.#context.clientGone()) return false
    if (!neverSent(this.#delivery)) return false
    return this.#context.body === null || this.#context.body.replayable
  }

  #settle (): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#context.body?.release()
  }
}

/** The interceptor for `pool.compose`: requests without an AttemptContext pass through untouched. */
export function attemptInterceptor (dispatch: Dispatch): Dispatch {
  return (opts, handler) => {
    const context = opts[ATTEMPT_CONTEXT]
    if (context === undefined) return dispatch(opts, handler)
    return new AttemptHandler(dispatch, opts, handler, context).start()
  }
}
