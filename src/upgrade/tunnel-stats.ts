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
 * Every WebSocket counter in one place, for the log now and for the metrics
 * endpoint later. Bytes are tunnel payload only (after the 101). Open tunnels
 * are read through their meters, so long-lived tunnels show up before they
 * close, without a listener on every chunk (issue #5: a second `data`
 * listener made each chunk's emit copy the listener list).
 */
export class TunnelStats implements TunnelCounts {
  active = 0
  opened = 0
  refused = 0
  #closedClientToBackend = 0
  #closedBackendToClient = 0
  readonly #open = new Set<TunnelMeter>()

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

  track (meter: TunnelMeter): void {
    this.#open.add(meter)
  }

  /** Moves a closed tunnel's final figures into the totals and returns them. */
  close (meter: TunnelMeter): { clientToBackend: number, backendToClient: number } {
    const final = { clientToBackend: meter.clientToBackend(), backendToClient: meter.backendToClient() }
    if (this.#open.delete(meter)) {
      this.#closedClientToBackend += final.clientToBackend
      this.#closedBackendToClient += final.backendToClient
    }
    return final
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
