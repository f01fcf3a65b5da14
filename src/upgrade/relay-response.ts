import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { stripResponseHopHeaders, type HeaderMap } from '../forward/hop-headers.js'
import { ChunkedDecoder } from './chunked-decoder.js'
import { lingerThenDestroy } from './close-client.js'
import type { ResponseHead } from './read-response-head.js'

/** How the body of a relayed answer ends (RFC 9112 §6.3). */
type Framing = { kind: 'none' } | { kind: 'length', bytes: number } | { kind: 'chunked' } | { kind: 'close' }

function framingOf (head: ResponseHead): Framing {
  if (head.status === 204 || head.status === 304) return { kind: 'none' }
  const te = head.headers.get('transfer-encoding')
  if (te !== undefined) {
    const codings = te.join(',').split(',').map((c) => c.trim().toLowerCase())
    return codings[codings.length - 1] === 'chunked' ? { kind: 'chunked' } : { kind: 'close' }
  }
  const length = head.headers.get('content-length')?.[0]
  if (length !== undefined) return { kind: 'length', bytes: Number(length.split(',')[0]) }
  return { kind: 'close' }
}

/**
 * The client-facing head: status line as received, headers minus hop-by-hop
 * ones (so a 200 that claims `Upgrade` loses that claim), and
 * `Connection: close`. A chunked body is decoded and sent close-delimited,
 * which is how the router learns where it ends.
 */
function clientHead (head: ResponseHead, framing: Framing): string {
  const map: HeaderMap = {}
  for (const [name, values] of head.headers) map[name] = [...values]
  const kept = stripResponseHopHeaders(map)
  const lines = [head.statusLine]
  for (const [name, value] of head.rawHeaders) {
    const lower = name.toLowerCase()
    if (!(lower in kept) || (framing.kind === 'chunked' && lower === 'content-length')) continue
    lines.push(`${name}: ${value}`)
  }
  lines.push('Connection: close')
  return lines.join('\r\n') + '\r\n\r\n'
}

/**
 * Step 5, the refusal path: a final answer to the handshake is relayed as an
 * ordinary response, head and body, and then both connections close. The
 * client socket is never read into the backend here, so a request the client
 * pipelined behind its handshake dies with it (the WebSocket-smuggling
 * defence). `idleMs` bounds a body that stops arriving.
 */
export function relayResponse (head: ResponseHead, rest: Buffer, backend: Socket, client: Duplex, idleMs: number): void {
  const framing = framingOf(head)
  const decoder = framing.kind === 'chunked' ? new ChunkedDecoder() : null
  let left = framing.kind === 'length' ? framing.bytes : Infinity
  let finished = false
  const done = (): void => {
    if (finished) return
    finished = true
    backend.off('data', onData)
    backend.destroy()
    if (client.writable) client.end()
    lingerThenDestroy(client)
  }
  const onData = (chunk: Buffer): void => {
    let parts: Buffer[]
    try {
      parts = decoder !== null ? decoder.push(chunk) : [chunk.subarray(0, Math.min(chunk.length, left))]
    } catch {
      // The head is already out; a broken body can only be signalled by cutting the connection.
      backend.destroy()
      client.destroy()
      return
    }
    let flowing = true
    for (const part of parts) {
      left -= part.length
      if (part.length > 0 && client.writable) flowing = client.write(part) && flowing
    }
    if (left <= 0 || decoder?.done === true) {
      done()
      return
    }
    if (!flowing) {
      backend.pause()
      client.once('drain', () => backend.resume())
    }
  }

  // The head was parsed as latin1: written back the same way, its bytes are the backend's own.
  client.write(clientHead(head, framing), 'latin1')
  if (framing.kind === 'none' || left === 0) {
    done()
    return
  }
  backend.setTimeout(idleMs, () => {
    backend.destroy()
    client.destroy()
  })
  backend.on('end', () => {
    if (framing.kind === 'close') done()
    else if (!finished) {
      // Cut, not ended: a close-delimited copy of a truncated body would look complete.
      backend.destroy()
      client.destroy()
    }
  })
  backend.on('data', onData)
  if (rest.length > 0) onData(rest)
  if (!backend.destroyed) backend.resume()
}
