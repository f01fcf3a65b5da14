import type { RescanFailure } from '../discovery/snapshot-feed.js'
import type { HealthState } from '../health/route-health.js'
import type { RouterSnapshot } from '../routing/route-types.js'
import type { TunnelClaim } from '../upgrade/tunnel-registry.js'

/**
 * The environment variable that carries the CLI's argv (JSON) to a worker
 * and tells it that it is one: not process.argv, which in the single binary
 * is the binary's own path (issue #14). Read before node:cluster is loaded.
 */
export const WORKER_ARGV_ENV = 'SOCKROUTER_WORKER_ARGV'

/**
 * What the primary and its workers say to each other over ClusterChannel
 * (issue #14, `--workers`). Names and bodies in one place; the bodies go
 * through structured clone (`serialization: 'advanced'`), Maps included.
 */
export const CLUSTER = {
  /** Worker → primary request: the latest snapshot, its sequence number, the rescan failure and the active-probe verdicts. */
  latest: 'snapshot-latest',
  /** Primary → workers event: a new snapshot. */
  snapshot: 'snapshot',
  /** Primary → workers event: the rescan failure changed. */
  failure: 'rescan-failure',
  /** Primary → workers event: an active probe changed a route's health. */
  health: 'health',
  /** Worker → primary request: a full rescan (the admin API's reload, a route-file write); replies a RescanResult. */
  rescan: 'rescan',
  /** Worker → primary request: a router-wide tunnel slot; replies TunnelLeaseReply. */
  lease: 'tunnel-lease',
  /** Worker → primary event: a tunnel ended. */
  release: 'tunnel-release',
  /** Primary → workers event: SIGHUP, read the TLS certificate again. */
  reloadTls: 'reload-tls',
  /** Primary → workers event: drain and exit (SIGTERM or SIGINT reached the primary). */
  shutdown: 'shutdown',
  /** Worker → primary event: listening, with the addresses bound. */
  ready: 'worker-ready',
  /** Worker → primary event: start-up failed, with the one line the CLI would print. */
  failed: 'worker-failed'
} as const

export interface SnapshotMessage {
  /** Increases with every snapshot the primary publishes, so a worker never goes back to an older one. */
  readonly seq: number
  readonly snapshot: RouterSnapshot
}

export interface LatestReply {
  readonly latest: SnapshotMessage
  readonly failure: RescanFailure | null
  readonly health: readonly HealthMessage[]
}

export interface HealthMessage {
  readonly prefix: string
  readonly state: HealthState
  readonly cause: string | null
}

export type TunnelLeaseRequest = TunnelClaim

export interface TunnelLeaseReply {
  /** null: a router-wide limit is reached. */
  readonly lease: number | null
}

export interface ReadyMessage {
  readonly addresses: readonly string[]
}
