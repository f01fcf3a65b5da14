import { once } from 'node:events'
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2'
import { LOOPBACK, type TcpEndpoint } from '../endpoint.js'
import { EchoTally, type WsLoadResult } from './ws-load.js'

/**
 * WebSocket echo over HTTP/2 (RFC 8441, issue #13): `sessions` TLS
 * connections, each carrying `streamsPerSession` extended CONNECT streams,
 * each with one text message in flight, as ws-load.ts does over HTTP/1.1.
 * `ws` has no RFC 8441 client, so the frames are written and read here:
 * masked text frames out (RFC 6455 §5.3), unmasked ones back.
 */

export interface H2WsLoadOptions {
  readonly sessions: number
  readonly streamsPerSession: number
  readonly payloadBytes: number
  readonly seconds: number
}

/**
 * One masked frame with FIN set (RFC 6455 §5.2). The load sends the same
 * bytes, mask key included, every time: §5.3 wants a fresh key per frame
 * against cache poisoning by intermediaries, which the echo backend does not
 * check, and building one per message would make the client the bottleneck.
 */
export function maskedFrame (payload: Buffer, opcode: number, maskKey: Buffer): Buffer {
  const len = payload.length
  const head = len < 126 ? 2 : len < 65_536 ? 4 : 10
  const frame = Buffer.allocUnsafe(head + 4 + len)
  frame[0] = 0x80 | opcode
  if (len < 126) {
    frame[1] = 0x80 | len
  } else if (len < 65_536) {
    frame[1] = 0x80 | 126
    frame.writeUInt16BE(len, 2)
  } else {
    frame[1] = 0x80 | 127
    frame.writeBigUInt64BE(BigInt(len), 2)
  }
  maskKey.copy(frame, head, 0, 4)
  for (let i = 0; i < len; i++) frame[head + 4 + i] = (payload[i] ?? 0) ^ (maskKey[i & 3] ?? 0)
  return frame
}

/** Bytes of the first whole unmasked frame in `buf` (header included), or 0 if it is not all there yet. */
export function frameLength (buf: Buffer): number {
  if (buf.length < 2) return 0
  const len7 = (buf[1] ?? 0) & 0x7f
  const head = len7 < 126 ? 2 : len7 === 126 ? 4 : 10
  if (buf.length < head) return 0
  const len = len7 < 126 ? len7 : len7 === 126 ? buf.readUInt16BE(2) : Number(buf.readBigUInt64BE(2))
  return buf.length < head + len ? 0 : head + len
}

async function openSession (e: TcpEndpoint, timeoutMs: number): Promise<ClientHttp2Session> {
  const session = connect(`https://${LOOPBACK}:${e.port}`, { rejectUnauthorized: false })
  session.on('error', () => {})
  const settings = once(session, 'remoteSettings')
  const timer = setTimeout(() => session.destroy(new Error('no SETTINGS in time')), timeoutMs)
  try {
    await settings
  } finally {
    clearTimeout(timer)
  }
  // RFC 8441 §3: no extended CONNECT before the server said SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
  if (session.remoteSettings.enableConnectProtocol !== true) {
    session.destroy()
    throw new Error('the server does not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1')
  }
  return session
}

/** An extended CONNECT for `e.path`; resolves with the stream once it is answered 200, rejects with the status otherwise. */
async function openTunnel (session: ClientHttp2Session, e: TcpEndpoint, timeoutMs: number): Promise<ClientHttp2Stream> {
  const stream = session.request({
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'https',
    ':path': e.path,
    ':authority': `${LOOPBACK}:${e.port}`,
    'sec-websocket-version': '13'
  }, { endStream: false })
  stream.on('error', () => {})
  const timer = setTimeout(() => stream.destroy(new Error('no answer in time')), timeoutMs)
  try {
    const [headers] = await Promise.race([
      once(stream, 'response') as Promise<[IncomingHttpHeaders]>,
      once(stream, 'close').then(() => { throw new Error('stream closed before an answer') })
    ])
    const status = Number(headers[':status'])
    if (status !== 200) {
      stream.close()
      throw new Error(`extended CONNECT answered ${status}`)
    }
    return stream
  } finally {
    clearTimeout(timer)
  }
}

/** Why `e` cannot carry RFC 8441 tunnels, or null: one session, one tunnel, then closed. */
export async function probeExtendedConnect (e: TcpEndpoint): Promise<string | null> {
  let session: ClientHttp2Session | null = null
  try {
    session = await openSession(e, 10_000)
    const stream = await openTunnel(session, e, 10_000)
    stream.close()
    return null
  } catch (err) {
    return (err as Error).message
  } finally {
    session?.destroy()
  }
}

export async function h2WsEchoLoad (e: TcpEndpoint, { sessions: sessionCount, streamsPerSession, payloadBytes, seconds }: H2WsLoadOptions): Promise<WsLoadResult> {
  let errors = 0
  const sessions = (await Promise.all(Array.from({ length: sessionCount }, async () => {
    try {
      return await openSession(e, 10_000)
    } catch {
      errors += streamsPerSession
      return null
    }
  }))).filter((s): s is ClientHttp2Session => s !== null)
  const streams: ClientHttp2Stream[] = []
  await Promise.all(sessions.flatMap((session) => Array.from({ length: streamsPerSession }, async () => {
    try {
      streams.push(await openTunnel(session, e, 10_000))
    } catch {
      errors++
    }
  })))
  const frame = maskedFrame(Buffer.alloc(payloadBytes, 0x78), 0x1, Buffer.from([0x12, 0x34, 0x56, 0x78]))
  const tally = new EchoTally(seconds, errors)
  for (const stream of streams) {
    let sentAt = 0
    let pending: Buffer = Buffer.alloc(0)
    const send = (): void => {
      sentAt = tally.sent()
      stream.write(frame)
    }
    stream.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      let n: number
      while ((n = frameLength(pending)) > 0) {
        pending = pending.subarray(n)
        if (tally.echoed(sentAt, payloadBytes) && !stream.destroyed) send()
      }
    })
    stream.on('close', () => tally.closed())
    send()
  }
  const result = await tally.finish()
  for (const session of sessions) session.destroy()
  return result
}
