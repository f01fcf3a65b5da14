import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { abortSide, closedAbortively } from './abort-side.js'
import type { TunnelMeter, TunnelTracker } from './tunnel-stats.js'

export interface SpliceInput {
  readonly client: Duplex
  readonly backend: Socket
  /** The backend's 101 head, verbatim; empty when the client was answered otherwise (RFC 8441: a `:status 200`). */
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
 * Bytes a socket has read and handed on: its own counter, less what still
 * waits unread in its stream buffer (a paused socket keeps reading into it).
 */
function taken (socket: Socket): number {
  return socket.bytesRead - socket.readableLength
}

/**
 * A tunnel's payload bytes from the sides' counters: what each side has
 * read since the splice, plus what was already read with the heads. An
 * HTTP/2 stream (RFC 8441) has no counter of its own, so what it emits is
 * counted here; its DATA frames are the tunnel's payload. The meter holds
 * plain numbers and the two sides, not the heads' buffers or a closure per
 * side, since a tunnel may stay open for days (issues #5 and #14: RSS per
 * idle tunnel).
 */
class SocketMeter implements TunnelMeter {
  /** The client when it is a socket; null for an RFC 8441 stream, counted in `#clientEmitted`. */
  readonly #clientSocket: Socket | null
  readonly #backend: Socket
  #clientEmitted = 0
  readonly #clientStart: number
  readonly #backendStart: number

  constructor (client: Duplex, backend: Socket, clientEarly: number, backendEarly: number) {
    this.#clientSocket = typeof (client as Partial<Socket>).bytesRead === 'number' ? client as Socket : null
    if (this.#clientSocket === null) client.on('data', (chunk: Buffer) => { this.#clientEmitted += chunk.length })
    this.#backend = backend
    this.#clientStart = this.#clientTaken() - clientEarly
    this.#backendStart = taken(backend) - backendEarly
  }

  #clientTaken (): number {
    return this.#clientSocket === null ? this.#clientEmitted : taken(this.#clientSocket)
  }

  clientToBackend (): number {
    return this.#clientTaken() - this.#clientStart
  }

  backendToClient (): number {
    return taken(this.#backend) - this.#backendStart
  }
}

/**
 * Step 6. Sends the 101 head (if any) to the client, then what the backend sent
 * after it, hands the held-back client bytes to the backend, and pipes both
 * ways. pipe() pauses the source whenever the destination's buffer is full,
 * so a client that reads slowly holds the backend back through TCP instead
 * of growing the router's memory. Calls `onClosed` once both sides closed.
 *
 * When one side closes, the other's fate is decided here. An error, or a
 * close without a clean end, destroys it at once (destroy(), never just
 * end(): node-http-proxy leaked descriptors that way, its issues #559 and
 * #1510). A clean close lets the pipe's end() flush what is still queued
 * for the other side (a WebSocket close frame, typically) and destroys it
 * once flushed, so a peer that never sends its own FIN cannot keep the
 * socket open. A side destroyed that way (`cut`) closes without having read
 * its peer's FIN, which is still a clean end: a WebSocket client waits for
 * the server to close the TCP connection first (RFC 6455 §7.1.1). For an
 * RFC 8441 stream END_STREAM is the FIN and a reset other than NO_ERROR the
 * RST (RFC 8441 §5). A socket's error always ends in a `close` with
 * `hadError`, so the close alone tells an error apart. One `close`
 * listener per side, no promise: each would live as long as the tunnel
 * (issue #14: RSS per idle tunnel).
 */
export function spliceTunnel (input: SpliceInput, onClosed: (result: TunnelResult) => void): void {
  const { client, backend, stats } = input
  let reason: TunnelResult['reason'] = 'end'
  let open = 2
  let cut: Duplex | null = null

  if (input.responseHead.length > 0) client.write(input.responseHead)
  if (input.backendRest.length > 0) client.write(input.backendRest)
  if (input.clientRest.length > 0) backend.write(input.clientRest)

  const meter = new SocketMeter(client, backend, input.clientRest.length, input.backendRest.length)
  stats.track(meter)
  input.onMeter?.(meter)
  client.pipe(backend)
  backend.pipe(client)

  const sideClosed = (closed: Duplex, other: Duplex, hadError: boolean | undefined): void => {
    if (closedAbortively(closed, hadError) || (!closed.readableEnded && cut !== closed)) {
      if (reason === 'end') reason = 'error'
      abortSide(other)
    } else {
      cut = other
      if (other.writableFinished || other.destroyed) other.destroy()
      else other.once('finish', () => other.destroy())
    }
    if (--open > 0) return
    const final = stats.close(meter)
    onClosed({ bytesClientToBackend: final.clientToBackend, bytesBackendToClient: final.backendToClient, reason })
  }
  client.on('close', (hadError?: boolean) => sideClosed(client, backend, hadError))
  backend.on('close', (hadError: boolean) => sideClosed(backend, client, hadError))

  if (input.idleTimeoutMs > 0) {
    // The client socket's timer sees traffic both ways: reads from it and writes to it.
    if ('setTimeout' in client && typeof client.setTimeout === 'function') {
      (client as Socket).setTimeout(input.idleTimeoutMs, () => {
        reason = 'idle'
        abortSide(client)
        backend.destroy()
      })
    }
  }
}
