import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { GatewayError } from '../forward/gateway-errors.js'

export interface TunnelLimits {
  /** Upgrades in progress plus open tunnels, across all clients. */
  readonly maxTunnels: number
  /** The same, per client IP; clients on a unix listener only count towards the total. */
  readonly maxTunnelsPerIp: number
}

/** Seconds a refused client is asked to wait (RFC 9110 §10.2.3). */
const RETRY_AFTER_SECONDS = 5

/** One upgrade, from admission until both of its sockets are closed. */
export class TunnelEntry {
  readonly client: Duplex
  readonly ip: string | undefined
  readonly service: string
  /** The route's key, for its own `maxTunnels` (issue #4). */
  readonly routeKey: string
  #backend: Socket | null = null
  #onDone: () => void
  #cutAtShutdown = false

  constructor (client: Duplex, ip: string | undefined, service: string, routeKey: string, onDone: () => void) {
    this.client = client
    this.ip = ip
    this.service = service
    this.routeKey = routeKey
    this.#onDone = onDone
    client.once('close', () => this.#check())
  }

  get backend (): Socket | null {
    return this.#backend
  }

  attachBackend (backend: Socket): void {
    this.#backend = backend
    backend.once('close', () => this.#check())
  }

  /** True once shutdown cut this tunnel (its closing log line says `shutdown`, not `error`). */
  get cutAtShutdown (): boolean {
    return this.#cutAtShutdown
  }

  destroy (): void {
    this.client.destroy()
    this.#backend?.destroy()
  }

  cutForShutdown (): void {
    this.#cutAtShutdown = true
    this.destroy()
  }

  #check (): void {
    if (!this.client.destroyed || (this.#backend !== null && !this.#backend.destroyed)) return
    const done = this.#onDone
    this.#onDone = () => {}
    done()
  }
}

/**
 * Every live upgrade is in this set, so that limits can be enforced and
 * shutdown can drain them (docs/architecture.md, "Shutdown"; Caddy keeps
 * every spliced connection for the same reason). An entry leaves the set
 * only when both sockets closed.
 */
export class TunnelRegistry {
  readonly #entries = new Set<TunnelEntry>()
  readonly #perIp = new Map<string, number>()
  readonly #perRoute = new Map<string, number>()
  readonly #limits: TunnelLimits
  readonly #emptyWaiters: (() => void)[] = []
  #accepting = true

  constructor (limits: TunnelLimits) {
    this.#limits = limits
  }

  get accepting (): boolean {
    return this.#accepting
  }

  get size (): number {
    return this.#entries.size
  }

  /** Reserves a slot or throws 503 with Retry-After. `routeMax` is the route's own limit, if any. */
  admit (client: Duplex, ip: string | undefined, service: string, routeKey: string, routeMax: number | null): TunnelEntry {
    if (!this.#accepting) throw new GatewayError('service_unavailable', { message: 'The router is shutting down.' })
    const perIp = ip === undefined ? 0 : this.#perIp.get(ip) ?? 0
    const perRoute = this.#perRoute.get(routeKey) ?? 0
    if (this.#entries.size >= this.#limits.maxTunnels || perIp >= this.#limits.maxTunnelsPerIp || (routeMax !== null && perRoute >= routeMax)) {
      throw new GatewayError('service_unavailable', { service, message: 'Too many open WebSocket connections.', retryAfter: RETRY_AFTER_SECONDS })
    }
    const entry = new TunnelEntry(client, ip, service, routeKey, () => this.#release(entry))
    this.#entries.add(entry)
    if (ip !== undefined) this.#perIp.set(ip, perIp + 1)
    this.#perRoute.set(routeKey, perRoute + 1)
    return entry
  }

  /** Open tunnels on one route. */
  countFor (routeKey: string): number {
    return this.#perRoute.get(routeKey) ?? 0
  }

  #release (entry: TunnelEntry): void {
    if (!this.#entries.delete(entry)) return
    if (entry.ip !== undefined) decrement(this.#perIp, entry.ip)
    decrement(this.#perRoute, entry.routeKey)
    if (this.#entries.size === 0) for (const wake of this.#emptyWaiters.splice(0)) wake()
  }

  /**
   * Graceful shutdown: refuse new upgrades at once, let open tunnels end on
   * their own for `graceMs`, then destroy what is left and wait for the
   * sockets to report closed.
   */
  async drain (graceMs: number): Promise<void> {
    this.#accepting = false
    if (this.#entries.size > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        new Promise<void>((resolve) => this.#emptyWaiters.push(resolve)),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs) })
      ])
      clearTimeout(timer)
    }
    if (this.#entries.size === 0) return
    const empty = new Promise<void>((resolve) => this.#emptyWaiters.push(resolve))
    for (const entry of this.#entries) entry.cutForShutdown()
    await empty
  }
}

function decrement (counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1
  if (left === 0) counts.delete(key)
  else counts.set(key, left)
}
