import type { Duplex } from 'node:stream'

/**
 * Client bytes read ahead while the handshake waits for the backend. A
 * WebSocket client must wait for the 101 before it sends frames (RFC 6455
 * §4.1), so anything here is small; past the cap the socket is paused and
 * TCP flow control holds the rest.
 */
const MAX_EARLY_BYTES = 64 * 1024

export interface PendingClient {
  /** True once the client ended or closed its side during the handshake. */
  readonly gone: boolean
  /** Stops watching and pauses the client; returns every byte read since its request head. */
  stop (): Buffer
}

/**
 * Watches a client while its handshake is pending. A paused socket never
 * reads, so it never sees the client's FIN or RST: an aborted handshake kept
 * its tunnel slot (and its backend connection) until the handshake timeout
 * (issue #10). Reading instead, into a bounded buffer that goes to the
 * backend only after a valid 101, lets `onGone` free both at once.
 */
export function watchPendingClient (client: Duplex, head: Buffer, onGone: () => void): PendingClient {
  const chunks: Buffer[] = head.length > 0 ? [head] : []
  let size = head.length
  let gone = false
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk)
    size += chunk.length
    if (size >= MAX_EARLY_BYTES) client.pause()
  }
  const onEnd = (): void => {
    if (gone) return
    gone = true
    onGone()
  }
  client.on('data', onData)
  client.once('end', onEnd)
  client.once('close', onEnd)
  if (size < MAX_EARLY_BYTES) client.resume()
  return {
    get gone () { return gone },
    stop () {
      client.off('data', onData)
      client.off('end', onEnd)
      client.off('close', onEnd)
      client.pause()
      return chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks)
    }
  }
}
