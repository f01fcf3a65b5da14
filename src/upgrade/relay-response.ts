import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { stripResponseHopHeaders, type HeaderMap } from '../forward/hop-headers.js'
import { abortSide } from './abort-side.js'
import { ChunkedDecoder } from './chunked-decoder.js'
import { endAndLinger } from './close-client.js'
import type { ResponseHead } from './read-response-head.js'

/** How the body of a relayed answer ends (RFC 9112 §6.3). */
export type Framing = { kind: 'none' } | { kind: 'length', bytes: number } | { kind: 'chunked' } | { kind: 'close' }

export function framingOf (head: ResponseHead): Framing {
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
 * The backend's header lines a relayed answer keeps, as received: minus
 * hop-by-hop ones (so a 200 that claims `Upgrade` loses that claim; they are
 * also HTTP/2's connection-specific fields, RFC 9113 §8.2.2), and minus
 * Content-Length on a chunked body, which is decoded and sent without it.
 */
export function relayedHeaders (head: ResponseHead, framing: Framing): (readonly [string, string])[] {
  const map: HeaderMap = {}
  for (const [name, values] of head.headers) map[name] = [...values]
  const kept = stripResponseHopHeaders(map)
  return head.rawHeaders.filter(([name]) => {
    const lower = name.toLowerCase()
    return lower in kept && !(framing.kind === 'chunked' && lower === 'content-length')
  })
}

/**
 * The HTTP/1.1 client's head: status line as received, the relayed headers
 * and `Connection: close`. A chunked body goes close-delimited, which is how
 * the router learns where it ends. The head was parsed as latin1: written
 * back the same way, its bytes are the backend's own.
 */
function writeRawHead (client: Duplex, head: ResponseHead, framing: Framing): void {
  const lines = [head.statusLine, ...relayedHeaders(head, framing).map(([name, value]) => `${name}: ${value}`), 'Connection: close']
  client.write(lines.join('\r\n') + '\r\n\r\n', 'latin1')
}

/** How a relayed answer reaches the client, in the client's protocol. */
export interface AnswerWriter<C extends Duplex> {
  /** Sends the head; the body follows as framed here. */
  sendHead (client: C, head: ResponseHead, framing: Framing): void
  /** After the last byte of an answer: ends the client side, then closes it once that loses nothing. */
  finish (client: C): void
}

/** HTTP/1.1: the raw head, then the socket ends and lingers (close-client.ts). */
export const RAW_ANSWER: AnswerWriter<Duplex> = { sendHead: writeRawHead, finish: endAndLinger }

/**
 * Step 5, the refusal path: a final answer to the handshake is relayed as an
 * ordinary response, head and body, and then both connections close. The
 * client socket is never read into the backend here, so a request the client
 * pipelined behind its handshake dies with it (the WebSocket-smuggling
 * defence). `idleMs` bounds a body that stops arriving. The framing is the
 * same whichever protocol the client speaks; only `answer` differs.
 */
export function relayResponse<C extends Duplex> (head: ResponseHead, rest: Buffer, backend: Socket, client: C, idleMs: number, answer: AnswerWriter<C>): void {
  const framing = framingOf(head)
  const decoder = framing.kind === 'chunked' ? new ChunkedDecoder() : null
  let left = framing.kind === 'length' ? framing.bytes : Infinity
  let finished = false
  const done = (): void => {
    if (finished) return
    finished = true
    backend.off('data', onData)
    backend.destroy()
    answer.finish(client)
  }
  const onData = (chunk: Buffer): void => {
    let parts: Buffer[]
    try {
      parts = decoder !== null ? decoder.push(chunk) : [chunk.subarray(0, Math.min(chunk.length, left))]
    } catch {
      // The head is already out; a broken body can only be signalled by cutting the connection.
      backend.destroy()
      abortSide(client)
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

  answer.sendHead(client, head, framing)
  if (framing.kind === 'none' || left === 0) {
    done()
    return
  }
  backend.setTimeout(idleMs, () => {
    backend.destroy()
    abortSide(client)
  })
  backend.on('end', () => {
    if (framing.kind === 'close') done()
    else if (!finished) {
      // Cut, not ended: a close-delimited copy of a truncated body would look complete.
      backend.destroy()
      abortSide(client)
    }
  })
  backend.on('data', onData)
  if (rest.length > 0) onData(rest)
  if (!backend.destroyed) backend.resume()
}
