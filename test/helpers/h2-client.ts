import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2'
import { DEADLINE_MS, withTimeout } from './wait-for.js'

interface Teardown { teardown (fn: () => unknown): void }

export interface H2Response {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
  readonly text: string
}

/** A real HTTP/2 session (node:http2) to `origin`, trusting `ca`; closed at teardown. */
export async function openH2 (t: Teardown, origin: string, ca?: string): Promise<ClientHttp2Session> {
  const session = connect(origin, ca === undefined ? {} : { ca })
  session.on('error', () => {})
  t.teardown(() => { session.destroy() })
  await withTimeout(new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', () => resolve())
    session.once('error', reject)
  }), DEADLINE_MS, `an HTTP/2 session to ${origin}`)
  return session
}

/** One request on `session`, body read whole; `body` is sent and the stream ended. */
export function h2Request (session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer | string): Promise<H2Response> {
  const stream = session.request(headers, { endStream: body === undefined })
  if (body !== undefined) stream.end(body)
  return withTimeout(new Promise<H2Response>((resolve, reject) => {
    let head: IncomingHttpHeaders = {}
    const parts: Buffer[] = []
    stream.on('response', (h) => { head = h })
    stream.on('data', (c: Buffer) => parts.push(c))
    stream.on('end', () => {
      const data = Buffer.concat(parts)
      resolve({ status: Number(head[':status']), headers: head, body: data, text: data.toString() })
    })
    stream.on('error', reject)
  }), DEADLINE_MS, `HTTP/2 ${String(headers[':method'] ?? 'GET')} ${String(headers[':path'] ?? '/')}`)
}
