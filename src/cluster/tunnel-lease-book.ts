import type { TunnelClaim, TunnelLimits } from '../upgrade/tunnel-registry.js'

interface Lease {
  readonly worker: number
  readonly claim: TunnelClaim
}

/**
 * The primary's count of every worker's tunnels (issue #14): `--max-tunnels`,
 * `--max-tunnels-per-ip` and a route's `maxTunnels` hold for the whole
 * router, as in one process. A worker that dies has its leases released.
 */
export class TunnelLeaseBook {
  readonly #limits: TunnelLimits
  readonly #leases = new Map<number, Lease>()
  readonly #perIp = new Map<string, number>()
  readonly #perRoute = new Map<string, number>()
  #nextId = 1

  constructor (limits: TunnelLimits) {
    this.#limits = limits
  }

  get size (): number {
    return this.#leases.size
  }

  /** A lease id, or null when a limit is reached. */
  acquire (worker: number, claim: TunnelClaim): number | null {
    const perIp = claim.ip === undefined ? 0 : this.#perIp.get(claim.ip) ?? 0
    const perRoute = this.#perRoute.get(claim.routeKey) ?? 0
    if (this.#leases.size >= this.#limits.maxTunnels || perIp >= this.#limits.maxTunnelsPerIp || (claim.routeMax !== null && perRoute >= claim.routeMax)) return null
    const id = this.#nextId++
    this.#leases.set(id, { worker, claim })
    if (claim.ip !== undefined) this.#perIp.set(claim.ip, perIp + 1)
    this.#perRoute.set(claim.routeKey, perRoute + 1)
    return id
  }

  /** Only the worker that holds a lease can give it back. */
  release (worker: number, id: number): void {
    const lease = this.#leases.get(id)
    if (lease === undefined || lease.worker !== worker) return
    this.#leases.delete(id)
    if (lease.claim.ip !== undefined) decrement(this.#perIp, lease.claim.ip)
    decrement(this.#perRoute, lease.claim.routeKey)
  }

  /** A worker exited: its tunnels went with it. */
  releaseWorker (worker: number): void {
    for (const [id, lease] of [...this.#leases]) if (lease.worker === worker) this.release(worker, id)
  }
}

function decrement (counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1
  if (left === 0) counts.delete(key)
  else counts.set(key, left)
}
