import type { Socket } from 'node:net'
import { GatewayError } from '../forward/gateway-errors.js'

/** The backend's response head, parsed strictly. */
export interface ResponseHead {
  readonly status: number
  /** Lower-cased names; every occurrence kept, in order. */
  readonly headers: ReadonlyMap<string, readonly string[]>
  /** `[name, value]` pairs as received, for relaying. */
  readonly rawHeaders: readonly (readonly [string, string])[]
  /** The status line as received, without CRLF. */
  readonly statusLine: string
  /** The head's bytes, final CRLFCRLF included: relayed verbatim on a 101. */
  readonly raw: Buffer
}

export interface HeadRead {
  readonly head: ResponseHead
  /** Bytes that arrived after the head: the first tunnel bytes, or body bytes. */
  readonly rest: Buffer
}

/** Like Node's default --max-http-header-size; a handshake response is a few hundred bytes. */
export const MAX_RESPONSE_HEAD_BYTES = 16 * 1024

const END_OF_HEAD = Buffer.from('\r\n\r\n')
const STATUS_LINE = /^HTTP\/1\.1 ([1-5]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/
// RFC 9110 §5.1 token, then field-value without CTLs (RFC 9110 §5.5); no obs-fold.
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[\t ]*([\t\x20-\x7e\x80-\xff]*?)[\t ]*$/

function malformed (message: string): GatewayError {
  return new GatewayError('bad_gateway', { message: 'The service sent a malformed response.', cause: new Error(message) })
}

/**
 * Parses a complete response head (status line and fields up to CRLFCRLF).
 * Strict on purpose (RFC 9112 §2.2, §5): bare LF, obs-fold, a field without
 * a colon, conflicting Content-Length or Content-Length with
 * Transfer-Encoding are all refused. A proxy that parses the head more
 * loosely than the client does is how response splitting gets through.
 */
export function parseResponseHead (raw: Buffer): ResponseHead {
  const text = raw.toString('latin1')
  if (!text.endsWith('\r\n\r\n')) throw malformed('head does not end in CRLFCRLF')
  const lines = text.slice(0, -4).split('\r\n')
  const statusLine = lines[0] ?? ''
  const status = STATUS_LINE.exec(statusLine)
  if (status === null) throw malformed('bad status line')
  const headers = new Map<string, string[]>()
  const rawHeaders: [string, string][] = []
  for (const line of lines.slice(1)) {
    if (line.includes('\n') || line.includes('\r')) throw malformed('bare CR or LF in head')
    const field = HEADER_LINE.exec(line)
    if (field === null) throw malformed('bad header line')
    const name = field[1] as string
    const value = field[2] as string
    rawHeaders.push([name, value])
    const lower = name.toLowerCase()
    const list = headers.get(lower)
    if (list === undefined) headers.set(lower, [value])
    else list.push(value)
  }
  const lengths = headers.get('content-length')
  if (lengths !== undefined) {
    if (headers.has('transfer-encoding')) throw malformed('both Content-Length and Transfer-Encoding')
    const values = new Set(lengths.flatMap((v) => v.split(',')).map((v) => v.trim()))
    if (values.size !== 1 || !/^\d{1,15}$/.test([...values][0] as string)) throw malformed('bad Content-Length')
  }
  return { status: Number(status[1]), headers, rawHeaders, statusLine, raw }
}

/**
 * Step 5. Reads from `socket` until the response head is complete, then
 * pauses it: later bytes stay in the socket for the next step. Fails with 502
 * for a malformed or oversized head or a backend that closes first, and 504
 * when nothing complete arrives within `timeoutMs`.
 */
export function readResponseHead (socket: Socket, timeoutMs: number, maxBytes = MAX_RESPONSE_HEAD_BYTES): Promise<HeadRead> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0)
    const finish = (err: GatewayError | null, result?: HeadRead): void => {
      clearTimeout(timer)
      socket.pause()
      socket.off('data', onData)
      socket.off('end', onEnd)
      socket.off('close', onEnd)
      if (err !== null) reject(err)
      else resolve(result as HeadRead)
    }
    const onData = (chunk: Buffer): void => {
      // Search from just before the new chunk, in case CRLFCRLF straddles two chunks.
      const from = Math.max(0, buffered.length - 3)
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      const end = buffered.indexOf(END_OF_HEAD, from)
      if (end === -1) {
        if (buffered.length > maxBytes) finish(malformed('response head too large'))
        return
      }
      if (end + 4 > maxBytes) {
        finish(malformed('response head too large'))
        return
      }
      try {
        const head = parseResponseHead(buffered.subarray(0, end + 4))
        finish(null, { head, rest: buffered.subarray(end + 4) })
      } catch (err) {
        finish(err as GatewayError)
      }
    }
    const onEnd = (): void => finish(new GatewayError('bad_gateway', { message: 'The service closed the connection without answering.' }))
    // 0 means no timeout, as it does for undici on the HTTP path.
    const timer = timeoutMs > 0 ? setTimeout(() => finish(new GatewayError('gateway_timeout')), timeoutMs) : undefined
    socket.on('data', onData)
    socket.once('end', onEnd)
    socket.once('close', onEnd)
  })
}
