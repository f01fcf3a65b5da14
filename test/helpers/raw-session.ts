import { connect, type Socket } from 'node:net'

/** One raw TCP connection to the router: exact bytes out, everything back as latin1. */
export interface RawSession {
  readonly socket: Socket
  /** Everything received so far. */
  text (): string
  /** Resolves with all text once `predicate` holds; rejects at the deadline or if the router closes first. */
  waitFor (predicate: (text: string) => boolean, what: string, timeoutMs?: number): Promise<string>
  /** Resolves with all text once the router closes the connection; rejects at the deadline. */
  closed (timeoutMs?: number): Promise<string>
}

export function openRawSession (port: number): RawSession {
  const socket = connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  let ended = false
  const listeners = new Set<() => void>()
  const notify = (): void => { for (const l of [...listeners]) l() }
  socket.on('error', () => {})
  socket.on('data', (c: Buffer) => { chunks.push(c); notify() })
  socket.on('close', () => { ended = true; notify() })
  const text = (): string => Buffer.concat(chunks).toString('latin1')
  const wait = (done: () => boolean, failed: () => boolean, what: string, timeoutMs: number): Promise<string> => new Promise((resolve, reject) => {
    const check = (): void => {
      if (done()) { finish(); resolve(text()) } else if (failed()) { finish(); reject(new Error(`connection closed before ${what}; got ${JSON.stringify(text())}`)) }
    }
    const timer = setTimeout(() => { finish(); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(text())}`)) }, timeoutMs)
    const finish = (): void => { clearTimeout(timer); listeners.delete(check) }
    listeners.add(check)
    check()
  })
  return {
    socket,
    text,
    waitFor: (predicate, what, timeoutMs = 5000) => wait(() => predicate(text()), () => ended, what, timeoutMs),
    closed: (timeoutMs = 5000) => wait(() => ended, () => false, 'the router to close the connection', timeoutMs)
  }
}

/** Writes `payload` on a fresh connection and resolves with everything the router sends until it closes. */
export function exchangeUntilClose (port: number, payload: string | Buffer, timeoutMs = 5000): Promise<string> {
  const session = openRawSession(port)
  session.socket.write(payload)
  return session.closed(timeoutMs).finally(() => session.socket.destroy())
}

export interface ParsedResponse {
  readonly status: number
  /** Lower-cased names; repeated headers joined with ', '. */
  readonly headers: Record<string, string>
  readonly body: string
}

/**
 * Splits a byte stream into the HTTP/1.1 responses it holds, in order:
 * 1xx heads (no body), Content-Length, chunked and read-to-close bodies (so
 * call it once the connection closed). A response cut off
 * short ends the list; `rest` is what could not be parsed.
 */
export function splitResponses (raw: string): { responses: ParsedResponse[], rest: string } {
  const responses: ParsedResponse[] = []
  let at = 0
  for (;;) {
    const headEnd = raw.indexOf('\r\n\r\n', at)
    if (headEnd === -1) break
    const [statusLine, ...lines] = raw.slice(at, headEnd).split('\r\n')
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? NaN)
    if (Number.isNaN(status)) break
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
    }
    let next = headEnd + 4
    let body = ''
    if (status >= 200 && status !== 204 && status !== 304) {
      if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
        let complete = false
        for (;;) {
          const sizeEnd = raw.indexOf('\r\n', next)
          if (sizeEnd === -1) break
          const size = parseInt(raw.slice(next, sizeEnd), 16)
          if (Number.isNaN(size) || raw.length < sizeEnd + 2 + size + 2) break
          if (size === 0) {
            const trailerEnd = raw.indexOf('\r\n\r\n', sizeEnd)
            if (trailerEnd === -1) break
            next = trailerEnd + 4
            complete = true
            break
          }
          body += raw.slice(sizeEnd + 2, sizeEnd + 2 + size)
          next = sizeEnd + 2 + size + 2
        }
        if (!complete) break
      } else if (headers['content-length'] === undefined) {
        // Neither length nor chunked: the body runs to the close (RFC 9112 §6.3).
        body = raw.slice(next)
        next = raw.length
      } else {
        const length = Number(headers['content-length'])
        if (raw.length < next + length) break
        body = raw.slice(next, next + length)
        next += length
      }
    }
    responses.push({ status, headers, body })
    at = next
  }
  return { responses, rest: raw.slice(at) }
}
