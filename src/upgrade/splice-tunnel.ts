import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { TunnelMeter, TunnelTracker } from './tunnel-stats.js'

export interface SpliceInput {
  readonly client: Duplex
  readonly backend: Socket
  /** The backend's 101 head, verbatim. */
  readonly responseHead: Buffer
  /** Backend bytes that arrived with the head: already WebSocket frames. */
  readonly backendRest: Buffer
  /** Client bytes held back until the 101 was accepted (Node's `head`). */
  readonly clientRest: Buffer
  /** Where this tunnel's meter is counted (tunnel-stats.ts: in total and per route). */
  readonly stats: TunnelTracker
  /** 0 = no idle timeout. */
  readonly idleTimeoutMs: number
  /** Told of the tunnel's byte meter once spliced: the admin API's per-tunnel bytes (issue #12). */
  readonly onMeter?: (meter: TunnelMeter) => void
}

export interface TunnelResult {
  readonly bytesClientToBackend: number
  readonly bytesBackendToClient: number
  /** Why it ended: `end` when both sides closed cleanly. */
  readonly reason: 'end' | 'error' | 'idle'
}

/**
 * Bytes a socket has read and handed on: its byte counter, less what still
 * waits unread in its stream buffer (a paused socket keeps reading into it).
 */
function bytesTaken (socket: Duplex): number {
  const read = (socket as Partial<Socket>).bytesRead ?? 0
  return read - socket.readableLength
}

/**
 * A tunnel's payload bytes from the sockets' own counters: what each side
 * has read since the splice, plus what was already read with the heads. It
 * holds plain numbers, not the heads' buffers, since a tunnel may stay open
 * for days (issue #5: RSS per idle tunnel).
 */
class SocketMeter implements TunnelMeter {
  readonly #client: Duplex
  readonly #backend: Duplex
  readonly #clientStart: number
  readonly #backendStart: number

  constructor (client: Duplex, backend: Duplex, clientEarly: number, backendEarly: number) {
    this.#client = client
    this.#backend = backend
    this.#clientStart = bytesTaken(client) - clientEarly
    this.#backendStart = bytesTaken(backend) - backendEarly
  }

  clientToBackend (): number {
    return bytesTaken(this.#client) - this.#clientStart
  }

  backendToClient (): number {
    return bytesTaken(this.#backend) - this.#backendStart
  }
}

/**
 * When `closed` closes, decides the other side's fate. An error, or a close
 * without a clean end, destroys it at once (destroy(), never just end():
 * node-http-proxy leaked descriptors that way, its issues #559 and #1510). A
 * clean close lets the pipe's end() flush what is still queued for the other
 * side (a WebSocket close frame, typically) and destroys it once flushed, so
 * a peer that never sends its own FIN cannot keep the socket open. A socket
 * destroyed that way (`cutByUs`) closes without having read its peer's FIN,
 * which is still a clean end: a WebSocket client waits for the server to
 * close the TCP connection first (RFC 6455 §7.1.1).
 */
function followClose (closed: Duplex, other: Duplex, onError: () => void, cutByUs: WeakSet<Duplex>): void {
  closed.once('close', (hadError?: boolean) => {
    if (hadError === true || (!closed.readableEnded && !cutByUs.has(closed))) {
      onError()
      other.destroy()
      return
    }
    cutByUs.add(other)
    if (other.writableFinished || other.destroyed) other.destroy()
    else other.once('finish', () => other.destroy())
  })
}

/**
 * Step 6. Sends the 101 head to the client, then what the backend sent
 * after it, hands the held-back client bytes to the backend, and pipes both
 * ways. pipe() pauses the source whenever the destination's buffer is full,
 * so a client that reads slowly holds the backend back through TCP instead
 * of growing the router's memory. Resolves once both sockets are closed.
 */
export function spliceTunnel (input: SpliceInput): Promise<TunnelResult> {
  const { client, backend, stats } = input
  let reason: TunnelResult['reason'] = 'end'

  client.write(input.responseHead)
  if (input.backendRest.length > 0) client.write(input.backendRest)
  if (input.clientRest.length > 0) backend.write(input.clientRest)

  const meter = new SocketMeter(client, backend, input.clientRest.length, input.backendRest.length)
  stats.track(meter)
  input.onMeter?.(meter)
  client.pipe(backend)
  backend.pipe(client)

  const failed = (): void => { if (reason === 'end') reason = 'error' }
  client.on('error', failed)
  backend.on('error', failed)
  const cutByUs = new WeakSet<Duplex>()
  followClose(client, backend, failed, cutByUs)
  followClose(backend, client, failed, cutByUs)

  if (input.idleTimeoutMs > 0) {
    // The client socket's timer sees traffic both ways: reads from it and writes to it.
    if ('setTimeout' in client && typeof client.setTimeout === 'function') {
      (client as Socket).setTimeout(input.idleTimeoutMs, () => {
        reason = 'idle'
        client.destroy()
        backend.destroy()
      })
    }
  }

  return new Promise((resolve) => {
    let open = 2
    const closed = (): void => {
      if (--open > 0) return
      const final = stats.close(meter)
      resolve({ bytesClientToBackend: final.clientToBackend, bytesBackendToClient: final.backendToClient, reason })
    }
    client.once('close', closed)
    backend.once('close', closed)
  })
}
