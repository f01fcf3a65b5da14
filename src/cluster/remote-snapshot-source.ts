import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import type { RescanFailure, SnapshotFeed, SnapshotFeedEvents } from '../discovery/snapshot-feed.js'
import type { RouterSnapshot } from '../routing/route-types.js'
import type { ClusterChannel } from './cluster-channel.js'
import { CLUSTER, type HealthMessage, type LatestReply, type SnapshotMessage } from './cluster-messages.js'

/** A rescan asked of the primary may wait behind a slow disk; past this the worker says it failed. */
const RESCAN_TIMEOUT_MS = 60_000

/**
 * A worker's snapshots (issue #14): what the primary's one SnapshotSource
 * publishes, received over the cluster channel. The worker builds its own
 * table from each with the same pure buildRouteTable, as one process does.
 * A rescan is the primary's; its snapshot arrives on the same pipe before
 * the reply, so `rescan()` resolves with the new table already in force.
 */
export class RemoteSnapshotSource extends EventEmitter<SnapshotFeedEvents> implements SnapshotFeed {
  readonly #channel: ClusterChannel
  readonly #log: Logger
  #last: RouterSnapshot | null = null
  #seq = -1
  #failure: RescanFailure | null = null
  #closed = false
  #startHealth: readonly HealthMessage[] = []
  readonly #onSnapshot = (message: SnapshotMessage): void => { this.#publish(message) }
  readonly #onFailure = (failure: RescanFailure | null): void => {
    this.#failure = failure
    this.emit('failure', failure)
  }

  constructor (channel: ClusterChannel, log: Logger) {
    super()
    this.#channel = channel
    this.#log = log
  }

  get last (): RouterSnapshot | null {
    return this.#last
  }

  get failure (): RescanFailure | null {
    return this.#failure
  }

  /** The active-probe verdicts the primary had when this worker started, to apply once the first table is in. */
  get startHealth (): readonly HealthMessage[] {
    return this.#startHealth
  }

  /** The primary's latest snapshot; listening first, so nothing published meanwhile is missed. */
  async start (): Promise<RouterSnapshot> {
    this.#channel.on(CLUSTER.snapshot, this.#onSnapshot)
    this.#channel.on(CLUSTER.failure, this.#onFailure)
    const reply = await this.#channel.request<LatestReply>(CLUSTER.latest, null)
    this.#failure = reply.failure
    this.#publish(reply.latest)
    this.#startHealth = reply.health
    if (this.#last === null) throw Object.assign(new Error('the primary sent no snapshot'), { code: 'first_scan' })
    return this.#last
  }

  /** The primary's full rescan (the admin API's reload, a route-file write); never rejects. */
  rescan (): Promise<void> {
    if (this.#closed) return Promise.resolve()
    return this.#channel.request(CLUSTER.rescan, null, RESCAN_TIMEOUT_MS).then(() => {}, (err: unknown) => {
      this.#log.warn({ err }, 'the primary did not answer a rescan')
    })
  }

  #publish (message: SnapshotMessage): void {
    if (this.#closed || message.seq <= this.#seq) return
    const previous = this.#last
    this.#seq = message.seq
    this.#last = message.snapshot
    try {
      this.emit('snapshot', message.snapshot)
    } catch (err) {
      // As SnapshotSource does: the last good table stays in force; the next snapshot tries again.
      this.#last = previous
      this.#log.error({ err }, `applying the primary's snapshot failed; the last good route table stays in force: ${(err as Error).message}`)
    }
  }

  close (): Promise<void> {
    this.#closed = true
    this.#channel.off(CLUSTER.snapshot, this.#onSnapshot)
    this.#channel.off(CLUSTER.failure, this.#onFailure)
    return Promise.resolve()
  }
}
