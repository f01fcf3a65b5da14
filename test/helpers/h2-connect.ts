import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, IncomingHttpStatusHeader } from 'node:http2'
import { once } from 'node:events'
import { DEADLINE_MS, withTimeout } from './wait-for.js'

export interface ConnectReply {
  readonly stream: ClientHttp2Stream
  readonly status: number
  readonly headers: IncomingHttpHeaders & IncomingHttpStatusHeader
  /**
   * Resolves once the server closed the stream: a reset (Node's client then
   * emits `aborted` and, until its own side ends, no `close`) or a close.
   * Listened for from the start, so an early one is not missed.
   */
  serverClosed (): Promise<void>
}

/**
 * A raw RFC 8441 extended CONNECT for `path`, resolved with the response
 * HEADERS. The session must have seen the server's SETTINGS (openH2 waits
 * for them): a client may send one only after SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3).
 */
export async function extendedConnect (session: ClientHttp2Session, path: string, authority: string, extra: Record<string, string | string[]> = {}, protocol = 'websocket'): Promise<ConnectReply> {
  const stream = session.request({
    ':method': 'CONNECT',
    ':protocol': protocol,
    ':scheme': 'https',
    ':path': path,
    ':authority': authority,
    'sec-websocket-version': '13',
    ...extra
  }, { endStream: false })
  stream.on('error', () => {})
  const closing = Promise.race([once(stream, 'aborted'), once(stream, 'close')]).then(() => {})
  const serverClosed = (): Promise<void> => withTimeout(closing, DEADLINE_MS, `the server to close the stream of CONNECT ${path}`)
  const [headers] = await withTimeout(once(stream, 'response'), DEADLINE_MS, `the response to CONNECT ${path}`) as [IncomingHttpHeaders & IncomingHttpStatusHeader]
  return { stream, status: Number(headers[':status']), headers, serverClosed }
}

/** Everything the stream sends until END_STREAM. */
export async function readToEnd (stream: ClientHttp2Stream): Promise<Buffer> {
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  await withTimeout(once(stream, 'end'), DEADLINE_MS, 'the end of the stream')
  return Buffer.concat(chunks)
}
