import { GatewayError } from '../forward/gateway-errors.js'

const MAX_LINE = 4096

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done'

function malformed (): GatewayError {
  return new GatewayError('bad_gateway', { message: 'The service sent a malformed response.' })
}

/**
 * Decodes an HTTP/1.1 chunked body (RFC 9112 §7.1) so that a relayed
 * non-101 answer can be sent close-delimited and the router knows where the
 * backend's response ends. Trailers are read and dropped.
 */
export class ChunkedDecoder {
  #state: State = 'size'
  #line = ''
  #remaining = 0

  get done (): boolean {
    return this.#state === 'done'
  }

  /** Returns the body bytes in `chunk`; throws a 502 GatewayError on malformed framing. */
  push (chunk: Buffer): Buffer[] {
    const out: Buffer[] = []
    let i = 0
    while (i < chunk.length && this.#state !== 'done') {
      if (this.#state === 'data') {
        const take = Math.min(this.#remaining, chunk.length - i)
        out.push(chunk.subarray(i, i + take))
        i += take
        this.#remaining -= take
        if (this.#remaining === 0) this.#state = 'data-crlf'
        continue
      }
      const byte = chunk[i++] as number
      if (byte !== 0x0a) {
        this.#line += String.fromCharCode(byte)
        if (this.#line.length > MAX_LINE) throw malformed()
        continue
      }
      if (!this.#line.endsWith('\r')) throw malformed()
      this.#endLine(this.#line.slice(0, -1))
      this.#line = ''
    }
    return out
  }

  #endLine (line: string): void {
    switch (this.#state) {
      case 'size': {
        const size = /^([0-9a-fA-F]{1,12})(?:[\t ]*;.*)?$/.exec(line)
        if (size === null) throw malformed()
        this.#remaining = parseInt(size[1] as string, 16)
        this.#state = this.#remaining === 0 ? 'trailer' : 'data'
        return
      }
      case 'data-crlf':
        if (line !== '') throw malformed()
        this.#state = 'size'
        return
      case 'trailer':
        if (line === '') this.#state = 'done'
        return
      default:
        throw malformed()
    }
  }
}
