/**
 * Every WebSocket counter in one place, for the log now and for the metrics
 * endpoint later. Bytes are tunnel payload only (after the 101), counted as
 * they pass, so long-lived tunnels show up before they close.
 */
export class TunnelStats {
  /** Tunnels spliced and not yet closed. */
  active = 0
  /** Tunnels ever spliced. */
  opened = 0
  /** Handshakes that ended without a tunnel: refused, relayed or failed. */
  refused = 0
  bytesClientToBackend = 0
  bytesBackendToClient = 0

  snapshot (): Readonly<Omit<TunnelStats, 'snapshot'>> {
    return {
      active: this.active,
      opened: this.opened,
      refused: this.refused,
      bytesClientToBackend: this.bytesClientToBackend,
      bytesBackendToClient: this.bytesBackendToClient
    }
  }
}
