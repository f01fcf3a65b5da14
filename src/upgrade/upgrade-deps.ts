import type { Logger } from 'pino'
import type { TrustedProxies } from '../forward/trusted-proxies.js'
import type { RouteHealth } from '../health/route-health.js'
import type { RouteStore } from '../routing/route-store.js'
import type { OriginHostGuard } from './origin-host-guard.js'
import type { TunnelRegistry } from './tunnel-registry.js'
import type { TunnelStats } from './tunnel-stats.js'

/** What both tunnel entries (HTTP/1.1 upgrades and RFC 8441 extended CONNECTs) are built from. */
export interface UpgradeDeps {
  readonly store: RouteStore
  readonly registry: TunnelRegistry
  readonly stats: TunnelStats
  readonly guard: OriginHostGuard
  readonly logger: Logger
  readonly connectTimeoutMs: number
  /** From connect to a complete response head. */
  readonly handshakeTimeoutMs: number
  /** 0 = tunnels may stay quiet forever. */
  readonly idleTimeoutMs: number
  /** Whose X-Forwarded-* to keep (issue #10); by default only unix-listener clients'. */
  readonly trustedProxies?: TrustedProxies
  /** Passive health (issue #12): a handshake answered or refused tells its route's record. */
  readonly health?: RouteHealth
}
