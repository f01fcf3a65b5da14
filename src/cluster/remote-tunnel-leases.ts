import type { TunnelClaim, TunnelLeases } from '../upgrade/tunnel-registry.js'
import type { ClusterChannel } from './cluster-channel.js'
import { CLUSTER, type TunnelLeaseReply } from './cluster-messages.js'

/** The primary answers from memory; a handshake should not wait long on a busy one. */
const LEASE_TIMEOUT_MS = 5000

/** A worker's side of the router-wide tunnel limits (issue #14): the primary's TunnelLeaseBook over the channel. */
export class RemoteTunnelLeases implements TunnelLeases {
  readonly #channel: ClusterChannel

  constructor (channel: ClusterChannel) {
    this.#channel = channel
  }

  async acquire (claim: TunnelClaim): Promise<number | null> {
    const reply = await this.#channel.request<TunnelLeaseReply>(CLUSTER.lease, claim, LEASE_TIMEOUT_MS)
    return reply.lease
  }

  release (lease: number): void {
    this.#channel.emit(CLUSTER.release, lease)
  }
}
