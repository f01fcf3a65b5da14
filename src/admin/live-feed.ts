import type { ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { readVersion } from '../config/build-info.js'
import { GatewayError } from '../forward/gateway-errors.js'
import { isHttp2Request } from '../forward/is-http2-request.js'
import { buildLiveState, type HealthSource, type LiveState, type LiveStateDeps } from './live-state.js'

export interface LiveFeedDeps extends Omit<LiveStateDeps, 'version' | 'health'> {
  readonly health?: HealthSource
  /** Read from the build (config/build-info.ts) when left out. */
  readonly version?: string
  /** Aborted when the router starts to close: open feeds end at once instead of holding the shutdown grace. */
  readonly shutdown?: AbortSignal
  /** Test seam: the steady push interval, PUSH_INTERVAL_MS when left out. */
  readonly pushIntervalMs?: number
  /**
   * `--workers` (issue #14): the whole router's state, from the primary.
   * When it fails (the primary is going away), this worker's own state is
   * sent instead: true, if partial.
   */
  readonly routerState?: () => Promise<LiveState>
}

/** The state goes out at least this often, so a reader needs no pings and sees rates move. */
export const PUSH_INTERVAL_MS = 1000
/** After a table swap or a health change, one push this soon, however many changes came in between (issue #12: ≤ 250 ms). */
export const CHANGE_DELAY_MS = 100
/** A reader this far behind is cut: each event is a whole snapshot, so a slow reader only ever needs the latest one. */
const MAX_BUFFERED_BYTES = 1 << 20

function stateEvent (json: string): string {
  return `event: state\ndata: ${json}\n\n`
}

/**
 * Every open /events response of one app, and the one timer that feeds them
 * all: a state is built once per push, whatever the number of readers. The
 * store and health listeners are held only while someone reads.
 */
class LiveFeed {
  readonly #deps: LiveStateDeps & LiveFeedDeps
  readonly #intervalMs: number
  readonly #readers = new Set<ServerResponse>()
  #timer: NodeJS.Timeout | null = null
  #due = 0
  /** A push waiting for the primary's answer (issue #14): the next one waits for it instead of asking twice. */
  #pushing = false
  readonly #onChange = (): void => this.#schedule(CHANGE_DELAY_MS)

  constructor (deps: LiveFeedDeps) {
    this.#deps = { ...deps, version: deps.version ?? readVersion() }
    this.#intervalMs = deps.pushIntervalMs ?? PUSH_INTERVAL_MS
    deps.shutdown?.addEventListener('abort', () => this.#endAll(), { once: true })
  }

  get closed (): boolean {
    return this.#deps.shutdown?.aborted === true
  }

  async state (): Promise<string> {
    const routerState = this.#deps.routerState
    if (routerState !== undefined) {
      try {
        return JSON.stringify(await routerState())
      } catch {}
    }
    return JSON.stringify(buildLiveState(this.#deps))
  }

  add (res: ServerResponse): void {
    // HTTP/2 has no Connection header (RFC 9113 §8.2.2): there the stream alone ends (issue #13).
    const close: Record<string, string> = isHttp2Request(res.req) ? {} : { connection: 'close' }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // The stream only ends when the router closes or the reader leaves:
      // nothing could reuse the connection after it, and with `close` Node
      // lets go of the socket as soon as the last byte is out, so shutdown
      // never waits on it (listen/graceful-close.ts).
      ...close,
      // nginx in front would otherwise buffer the stream.
      'x-accel-buffering': 'no'
    })
    // The first event goes to this reader alone, once the state is there; the steady pushes start with it.
    this.state().then((json) => { if (!res.destroyed) res.write(stateEvent(json)) }, () => {})
    res.once('close', () => this.#remove(res))
    if (this.#readers.size === 0) {
      this.#deps.store.on('swap', this.#onChange)
      this.#deps.health?.on('change', this.#onChange)
    }
    this.#readers.add(res)
    this.#schedule(this.#intervalMs)
  }

  #remove (res: ServerResponse): void {
    if (!this.#readers.delete(res) || this.#readers.size > 0) return
    this.#deps.store.off('swap', this.#onChange)
    this.#deps.health?.off('change', this.#onChange)
    this.#cancel()
  }

  /** Pushes within `delayMs`, unless a push is due sooner already: changes in a burst share one. */
  #schedule (delayMs: number): void {
    const due = Date.now() + delayMs
    if (this.#timer !== null && this.#due <= due) return
    this.#cancel()
    this.#due = due
    this.#timer = setTimeout(() => this.#push(), delayMs)
    // The feed alone never keeps the process alive.
    this.#timer.unref()
  }

  #cancel (): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }

  #push (): void {
    this.#timer = null
    if (this.#readers.size === 0) return
    if (this.#pushing) {
      this.#schedule(CHANGE_DELAY_MS)
      return
    }
    this.#pushing = true
    this.state().then((json) => {
      this.#pushing = false
      const event = stateEvent(json)
      for (const res of this.#readers) {
        // Backpressure: skip a reader that has not drained the last push; cut one that stopped reading.
        if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy()
        else if (!res.writableNeedDrain) res.write(event)
      }
      if (this.#readers.size > 0 && !this.closed) this.#schedule(this.#intervalMs)
    }, () => { this.#pushing = false })
  }

  #endAll (): void {
    this.#cancel()
    for (const res of [...this.#readers]) res.end()
  }
}

/**
 * GET /_sockrouter/state: one LiveState as JSON. GET /_sockrouter/events: the
 * same as server-sent events (HTML Living Standard §9.2), for the dashboard
 * and `sockrouter top` (issue #12).
 */
export function registerLiveFeed (app: FastifyInstance, prefix: string, deps: LiveFeedDeps): void {
  const feed = new LiveFeed(deps)

  app.get(`${prefix}/state`, async (_request, reply) => {
    reply.header('cache-control', 'no-store').type('application/json; charset=utf-8')
    return await feed.state()
  })

  app.get(`${prefix}/events`, (request, reply) => {
    if (feed.closed) throw new GatewayError('service_unavailable', { message: 'The router is shutting down.' })
    // Fastify runs GET handlers for HEAD too: a HEAD gets the head, not a stream that never ends.
    if (request.method === 'HEAD') return reply.header('cache-control', 'no-store').type('text/event-stream; charset=utf-8').send()
    // The response outlives the handler: Fastify must not send, time or serialise it.
    reply.hijack()
    feed.add(reply.raw)
  })
}
