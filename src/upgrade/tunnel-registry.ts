import type { Http2Stream } from 'node:http2'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { GatewayError } from '../forward/gateway-errors.js'
import { abortSide } from './abort-side.js'
import type { TunnelMeter } from './tunnel-stats.js'

export interface TunnelLimits {
  /** Upgrades in progress plus open tunnels, across all clients. */
  readonly maxTunnels: number
  /** The same, per client IP; clients on a unix listener only count towards the total. */
  readonly maxTunnelsPerIp: number
}

/** What one tunnel counts against: the router-wide limits' keys (issue #14). */
export interface TunnelClaim {
  readonly ip: string | undefined
  readonly routeKey: string
  /** The route's own `maxTunnels`, if any. */
  readonly routeMax: number | null
}

/**
 * Issue #14, `--workers`: the limits hold for the whole router, so a worker
 * asks the primary for a lease before it admits a tunnel and gives it back
 * when the tunnel ends. `acquire` resolves with a lease id, or null when a
 * limit is reached.
 */
export interface TunnelLeases {
  acquire (claim: TunnelClaim): Promise<number | null>
  release (lease: number): void
}

/** Seconds a refused client is asked to wait (RFC 9110 §10.2.3). */
const RETRY_AFTER_SECONDS = 5

/** Why the router itself cut a tunnel, for its closing log line; null while nobody did. */
export type TunnelCut = 'shutdown' | 'admin'

/** What the admin API shows of one open tunnel (issue #12). */
export interface TunnelInfo {
  readonly id: string
  /** The route's prefix, `/chat/ui/`. */
  readonly route: string
  /** `ip:port` of the client, or `unix` for a unix-listener client. */
  readonly client: string
  /** Date.now() at admission. */
  readonly startedAt: number
  /** Payload bytes client → backend and back, so far. */
  readonly bytesIn: number
  readonly bytesOut: number
}

/**
 * `ip:port`, `[v6]:port`, or `unix`: read once, since a destroyed socket
 * forgets its peer. An RFC 8441 tunnel's client is an HTTP/2 stream, whose
 * peer is that of its session's socket.
 */
function describePeer (client: Duplex): string {
  const { remoteAddress, remotePort } = (client as Partial<Http2Stream>).session?.socket ?? client as Partial<Socket>
  if (remoteAddress === undefined) return 'unix'
  return remoteAddress.includes(':') ? `[${remoteAddress}]:${remotePort ?? 0}` : `${remoteAddress}:${remotePort ?? 0}`
}

/** One upgrade, from admission until both of its sockets are closed. */
export class TunnelEntry {
  readonly id: string
  readonly client: Duplex
  readonly ip: string | undefined
  readonly service: string
  /** The route's key, for its own `maxTunnels` (issue #4). */
  readonly routeKey: string
  readonly prefix: string
  readonly peer: string
  readonly startedAt = Date.now()
  #backend: Socket | null = null
  #meter: TunnelMeter | null = null
  #onDone: () => void
  #cut: TunnelCut | null = null
  /** The router-wide lease (issue #14), once granted; -1 while none. */
  lease = -1
  /** True once the entry left the registry: a lease granted after that is given back at once. */
  released = false

  constructor (id: string, client: Duplex, ip: string | undefined, service: string, routeKey: string, prefix: string, onDone: () => void) {
    this.id = id
    this.client = client
    this.ip = ip
    this.service = service
    this.routeKey = routeKey
    this.prefix = prefix
    this.peer = describePeer(client)
    this.#onDone = onDone
    // on, not once: a socket closes once, and once() would add a wrapper and its state for the tunnel's whole life (issue #14).
    client.on('close', () => this.#check())
  }

  get backend (): Socket | null {
    return this.#backend
  }

  attachBackend (backend: Socket): void {
    this.#backend = backend
    backend.on('close', () => this.#check())
  }

  /** Set once the splice starts: from then on the tunnel is open and has byte counts. */
  attachMeter (meter: TunnelMeter): void {
    this.#meter = meter
  }

  get open (): boolean {
    return this.#meter !== null
  }

  /** True once shutdown cut this tunnel (its closing log line says `shutdown`, not `error`). */
  get cutAtShutdown (): boolean {
    return this.#cut === 'shutdown'
  }

  /** Who cut this tunnel, if the router did: its closing log line says so instead of `error`. */
  get cutReason (): TunnelCut | null {
    return this.#cut
  }

  info (): TunnelInfo {
    return {
      id: this.id,
      route: this.prefix,
      client: this.peer,
      startedAt: this.startedAt,
      bytesIn: this.#meter?.clientToBackend() ?? 0,
      bytesOut: this.#meter?.backendToClient() ?? 0
    }
  }

  /** Both sides at once: a half-closed tunnel would hold a descriptor and the peer would wait forever. */
  destroy (): void {
    abortSide(this.client)
    this.#backend?.destroy()
  }

  cut (reason: TunnelCut): void {
    this.#cut ??= reason
    this.destroy()
  }

  cutForShutdown (): void {
    this.cut('shutdown')
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
  readonly #idPrefix: string
  readonly #leases: TunnelLeases | null
  #accepting = true
  #nextId = 1

  /**
   * `idPrefix`: `<worker>-` under `--workers`, so ids are unique router-wide
   * (issue #14); `leases`: the primary's router-wide count, null in one process.
   */
  constructor (limits: TunnelLimits, options: { idPrefix?: string, leases?: TunnelLeases | null } = {}) {
    this.#limits = limits
    this.#idPrefix = options.idPrefix ?? ''
    this.#leases = options.leases ?? null
  }

  get accepting (): boolean {
    return this.#accepting
  }

  get size (): number {
    return this.#entries.size
  }

  /** Reserves a slot or throws 503 with Retry-After. `routeMax` is the route's own limit, if any. */
  admit (client: Duplex, ip: string | undefined, service: string, routeKey: string, routeMax: number | null, prefix = `/${routeKey}/`): TunnelEntry {
    if (!this.#accepting) throw new GatewayError('service_unavailable', { message: 'The router is shutting down.' })
    const perIp = ip === undefined ? 0 : this.#perIp.get(ip) ?? 0
    const perRoute = this.#perRoute.get(routeKey) ?? 0
    if (this.#entries.size >= this.#limits.maxTunnels || perIp >= this.#limits.maxTunnelsPerIp || (routeMax !== null && perRoute >= routeMax)) {
      throw new GatewayError('service_unavailable', { service, message: 'Too many open WebSocket connections.', retryAfter: RETRY_AFTER_SECONDS })
    }
    // Ids are never reused while the process runs, so a stale id cannot close someone else's tunnel (issue #12).
    const entry = new TunnelEntry(`${this.#idPrefix}${this.#nextId++}`, client, ip, service, routeKey, prefix, () => this.#release(entry))
    this.#entries.add(entry)
    if (ip !== undefined) this.#perIp.set(ip, perIp + 1)
    this.#perRoute.set(routeKey, perRoute + 1)
    return entry
  }

  /**
   * Issue #14: the router-wide lease for an admitted entry, or null when this
   * process is the whole router (nothing to wait for: the local counts were
   * the limits). Rejects with the same 503 as `admit` when the primary
   * refuses, and the entry leaves the registry without touching its client,
   * which gets that answer.
   */
  lease (entry: TunnelEntry, routeMax: number | null): Promise<void> | null {
    const leases = this.#leases
    if (leases === null) return null
    const refused = (): GatewayError => new GatewayError('service_unavailable', { service: entry.service, message: 'Too many open WebSocket connections.', retryAfter: RETRY_AFTER_SECONDS })
    return leases.acquire({ ip: entry.ip, routeKey: entry.routeKey, routeMax }).then((lease) => {
      if (lease === null) {
        this.#release(entry)
        throw refused()
      }
      if (entry.released) {
        // The client left while the primary answered.
        leases.release(lease)
        throw new GatewayError('client_closed', { service: entry.service })
      }
      entry.lease = lease
    }, () => {
      // No primary to ask (it is exiting): refuse rather than exceed the limits.
      this.#release(entry)
      throw refused()
    })
  }

  /** Spliced tunnels, oldest first (a Set keeps insertion order); handshakes in progress are left out. */
  list (): TunnelInfo[] {
    const open: TunnelInfo[] = []
    for (const entry of this.#entries) if (entry.open) open.push(entry.info())
    return open
  }

  /**
   * Cuts one open tunnel, both sides at once (issue #12, admin API). Resolves
   * true once both sockets reported closed, false when no open tunnel has
   * that id.
   */
  close (id: string): Promise<boolean> {
    const entry = [...this.#entries].find((e) => e.id === id && e.open)
    if (entry === undefined) return Promise.resolve(false)
    const closed = Promise.all([entry.client, entry.backend].map((socket) => socket === null || socket.closed
      ? Promise.resolve()
      : new Promise<void>((resolve) => socket.once('close', () => resolve()))))
    entry.cut('admin')
    return closed.then(() => true)
  }

  /** Open tunnels on one route. */
  countFor (routeKey: string): number {
    return this.#perRoute.get(routeKey) ?? 0
  }

  #release (entry: TunnelEntry): void {
    if (!this.#entries.delete(entry)) return
    entry.released = true
    if (entry.lease !== -1) this.#leases?.release(entry.lease)
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
