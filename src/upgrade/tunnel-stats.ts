import { EventEmitter } from 'node:events'
import type { GatewayError } from '../forward/gateway-errors.js'

/** Payload bytes of one open tunnel so far, read on demand. */
export interface TunnelMeter {
  clientToBackend (): number
  backendToClient (): number
}

export interface TunnelCounts {
  /** Tunnels spliced and not yet closed. */
  readonly active: number
  /** Tunnels ever spliced. */
  readonly opened: number
  /** Handshakes that ended without a tunnel: refused, relayed or failed. */
  readonly refused: number
  readonly bytesClientToBackend: number
  readonly bytesBackendToClient: number
}

/**
 * How one upgrade ended (issue #12, `sockrouter_tunnels_total{result}`):
 * `opened` spliced a tunnel; `refused` was answered by the router without a
 * tunnel (no route, Host or Origin refused, WebSocket off, route down,
 * tunnel limits, shutting down, a malformed handshake); `backend_refused`
 * was answered by the service without a 101 (relayed to the client);
 * `failed` got no valid answer from the service (refused, missing socket,
 * timeout, an invalid 101) or lost its client mid-handshake.
 */
export type UpgradeResult = 'opened' | 'refused' | 'backend_refused' | 'failed'
export const UPGRADE_RESULTS: readonly UpgradeResult[] = ['opened', 'refused', 'backend_refused', 'failed']

/** An upgrade that ended without a tunnel, as the `refusal` event reports it. */
export interface UpgradeRefusal {
  /** The matched route's prefix; null when none matched. */
  readonly prefix: string | null
  readonly result: Exclude<UpgradeResult, 'opened'>
  /** What the client was answered; null when the service's own answer was relayed. */
  readonly failure: GatewayError | null
  /** The request target as received (admin-only views cut it; never a metric label). */
  readonly url: string
}

/** One route's tunnels: open meters, totals of closed ones, and how each upgrade ended. */
export class RouteTunnelCounts {
  open = 0
  readonly results: Record<UpgradeResult, number> = { opened: 0, refused: 0, backend_refused: 0, failed: 0 }
  /** GatewayError codes of upgrades the service failed (issue #12, `sockrouter_upstream_errors_total`). */
  readonly upstreamErrors = new Map<string, number>()
  closedClientToBackend = 0
  closedBackendToClient = 0
  readonly meters = new Set<TunnelMeter>()

  get bytesClientToBackend (): number {
    let total = this.closedClientToBackend
    for (const meter of this.meters) total += meter.clientToBackend()
    return total
  }

  get bytesBackendToClient (): number {
    let total = this.closedBackendToClient
    for (const meter of this.meters) total += meter.backendToClient()
    return total
  }
}

/** What splice-tunnel.ts needs: the meter of one tunnel, in and out. */
export interface TunnelTracker {
  track (meter: TunnelMeter): void
  close (meter: TunnelMeter): { clientToBackend: number, backendToClient: number }
}

/** One tunnel being spliced: its tracker, and `end()` once both of its sockets closed. */
export interface OpenTunnel extends TunnelTracker {
  end (): void
}

/**
 * One open tunnel's view of the counters: two references, not three
 * closures and their scope, since it lives as long as the tunnel (issue #14:
 * RSS per idle tunnel).
 */
class RouteTunnel implements OpenTunnel {
  readonly #stats: TunnelStats
  readonly #counts: RouteTunnelCounts

  constructor (stats: TunnelStats, counts: RouteTunnelCounts) {
    this.#stats = stats
    this.#counts = counts
  }

  track (meter: TunnelMeter): void {
    this.#stats.track(meter, this.#counts)
  }

  close (meter: TunnelMeter): { clientToBackend: number, backendToClient: number } {
    return this.#stats.close(meter, this.#counts)
  }

  end (): void {
    this.#stats.end(this.#counts)
  }
}

/**
 * Every WebSocket counter in one place, for the log and the metrics endpoint
 * (issue #12), in total and per route prefix (null: no route matched). Bytes
 * are tunnel payload only (after the 101). Open tunnels are read through
 * their meters, so long-lived tunnels show up before they close, without a
 * listener on every chunk (issue #5: a second `data` listener made each
 * chunk's emit copy the listener list).
 */
export class TunnelStats extends EventEmitter<{ refusal: [UpgradeRefusal] }> implements TunnelCounts {
  active = 0
  opened = 0
  refused = 0
  #closedClientToBackend = 0
  #closedBackendToClient = 0
  readonly #open = new Set<TunnelMeter>()
  readonly #routes = new Map<string | null, RouteTunnelCounts>()

  get bytesClientToBackend (): number {
    let total = this.#closedClientToBackend
    for (const meter of this.#open) total += meter.clientToBackend()
    return total
  }

  get bytesBackendToClient (): number {
    let total = this.#closedBackendToClient
    for (const meter of this.#open) total += meter.backendToClient()
    return total
  }

  /** Per-route counts, keyed by prefix (null: no route matched). */
  get routes (): ReadonlyMap<string | null, RouteTunnelCounts> {
    return this.#routes
  }

  #route (prefix: string | null): RouteTunnelCounts {
    let counts = this.#routes.get(prefix)
    if (counts === undefined) {
      counts = new RouteTunnelCounts()
      this.#routes.set(prefix, counts)
    }
    return counts
  }

  /**
   * An upgrade that ended without a tunnel. `upstream` marks a failure of the
   * service itself (it counts in `sockrouter_upstream_errors_total`).
   */
  refuse (refusal: UpgradeRefusal, upstream: boolean): void {
    this.refused++
    const counts = this.#route(refusal.prefix)
    counts.results[refusal.result]++
    if (upstream && refusal.failure !== null) counts.upstreamErrors.set(refusal.failure.code, (counts.upstreamErrors.get(refusal.failure.code) ?? 0) + 1)
    this.emit('refusal', refusal)
  }

  /** A tunnel about to be spliced on `prefix`: the tracker its splice reports its meter to. */
  open (prefix: string): OpenTunnel {
    this.opened++
    this.active++
    const counts = this.#route(prefix)
    counts.results.opened++
    counts.open++
    return new RouteTunnel(this, counts)
  }

  /** RouteTunnel's `track`: the meter counts in the totals and in its route's. */
  track (meter: TunnelMeter, counts: RouteTunnelCounts): void {
    this.#open.add(meter)
    counts.meters.add(meter)
  }

  /** RouteTunnel's `close`: the meter's final bytes move to the closed totals, once. */
  close (meter: TunnelMeter, counts: RouteTunnelCounts): { clientToBackend: number, backendToClient: number } {
    const final = { clientToBackend: meter.clientToBackend(), backendToClient: meter.backendToClient() }
    if (this.#open.delete(meter)) {
      this.#closedClientToBackend += final.clientToBackend
      this.#closedBackendToClient += final.backendToClient
    }
    if (counts.meters.delete(meter)) {
      counts.closedClientToBackend += final.clientToBackend
      counts.closedBackendToClient += final.backendToClient
    }
    return final
  }

  /** RouteTunnel's `end`: both of its sockets closed. */
  end (counts: RouteTunnelCounts): void {
    this.active--
    counts.open--
  }

  /**
   * Drops the per-route counts of prefixes no longer routed, once their last
   * tunnel closed, so route churn cannot grow them (issue #12: bounded
   * cardinality). The totals above keep everything.
   */
  forgetRoutesExcept (live: ReadonlySet<string>): void {
    for (const [prefix, counts] of this.#routes) {
      if (prefix !== null && !live.has(prefix) && counts.open === 0) this.#routes.delete(prefix)
    }
  }

  snapshot (): TunnelCounts {
    return {
      active: this.active,
      opened: this.opened,
      refused: this.refused,
      bytesClientToBackend: this.bytesClientToBackend,
      bytesBackendToClient: this.bytesBackendToClient
    }
  }
}
