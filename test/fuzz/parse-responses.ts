/**
 * Reads what the router sent back as a strict sequence of HTTP/1.1
 * responses (RFC 9112 §4, §6): every message must start with a status line
 * where the previous one ended. A 100 Continue written into a body (issue
 * #10) or any stray byte breaks that, and shows up here.
 */
export interface ParsedResponses {
  readonly statuses: number[]
  /** Why the stream is not a sequence of responses, or null. */
  readonly malformed: string | null
  /** The stream ended inside a response. */
  readonly truncated: boolean
  readonly upgraded: boolean
}

function readChunked (buf: Buffer, start: number): number | null {
  let pos = start
  for (;;) {
    const eol = buf.indexOf('\r\n', pos, 'latin1')
    if (eol === -1) return null
    const size = parseInt(buf.subarray(pos, eol).toString('latin1').split(';')[0] ?? '', 16)
    if (Number.isNaN(size)) return -1
    pos = eol + 2
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', pos - 2, 'latin1')
      return end === -1 ? null : end + 4
    }
    pos += size + 2
    if (pos > buf.length) return null
  }
}

/** `lenient`: a HEAD request was sent, so a Content-Length body may be absent; stop after the first head. */
export function parseResponses (buf: Buffer, lenient: boolean): ParsedResponses {
  const statuses: number[] = []
  let pos = 0
  const result = (malformed: string | null, truncated: boolean, upgraded = false): ParsedResponses => ({ statuses, malformed, truncated, upgraded })
  while (pos < buf.length) {
    const probe = buf.subarray(pos, pos + 9).toString('latin1')
    if (!'HTTP/1.1 '.startsWith(probe) && !/^HTTP\/1\.[01] /.test(probe)) {
      return result(`bytes ${pos}..: ${JSON.stringify(buf.subarray(pos, pos + 40).toString('latin1'))} where a status line should start`, false)
    }
    const headEnd = buf.indexOf('\r\n\r\n', pos, 'latin1')
    if (headEnd === -1) return result(null, true)
    const lines = buf.subarray(pos, headEnd).toString('latin1').split('\r\n')
    const m = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/.exec(lines[0] ?? '')
    if (m === null) return result(`bad status line ${JSON.stringify(lines[0])} at byte ${pos}`, false)
    const status = Number(m[1])
    statuses.push(status)
    const headers = new Map<string, string>()
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      if (colon <= 0) return result(`bad header line ${JSON.stringify(line.slice(0, 80))} at byte ${pos}`, false)
      headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim())
    }
    pos = headEnd + 4
    if (status === 101) return result(null, false, true)
    if (status < 200 || status === 204 || status === 304) continue
    if (lenient) return result(null, false)
    if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
      const end = readChunked(buf, pos)
      if (end === null) return result(null, true)
      if (end === -1) return result(`bad chunk size at byte ${pos}`, false)
      pos = end
    } else if (headers.has('content-length')) {
      pos += Number(headers.get('content-length'))
      if (pos > buf.length) return result(null, true)
    } else {
      return result(null, false)
    }
  }
  return result(null, false)
}
