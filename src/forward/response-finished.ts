import type { ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'

/**
 * True once a response went out whole. On HTTP/1.1 that is node:http's
 * writableFinished. An HTTP/2 stream the client reset (RST_STREAM CANCEL)
 * reports its writable side finished too, so there the stream must also
 * have closed without an error code (RFC 9113 §5.4.2, issue #13).
 */
export function isResponseFinished (res: ServerResponse): boolean {
  const stream = (res as unknown as Partial<Http2ServerResponse>).stream
  if (stream === undefined) return res.writableFinished
  return res.writableEnded && stream.writableFinished && (stream.rstCode ?? 0) === 0
}
