import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { WebSocket } from 'ws'
import { isTls, wsUrl, type Endpoint } from '../endpoint.js'
import { Samples } from '../stats.js'

/**
 * A bounded `ws` echo client: `connections` sockets, each with one message in
 * flight. A socket sends again as soon as its echo arrives, until `seconds`
 * have passed; the round trip of every message is recorded.
 */

export interface WsLoadResult {
  readonly messages: number
  readonly seconds: number
  readonly msgsPerSec: number
  /** Echoed payload bytes received per second. */
  readonly bytesPerSec: number
  readonly p50Us: number
  readonly p99Us: number
  /** Sockets that failed to open, errored or closed early. */
  readonly errors: number
}

export interface WsLoadOptions {
  readonly connections: number
  readonly payloadBytes: number
  readonly seconds: number
  readonly binary: boolean
}

async function openAll (e: Endpoint, n: number, timeoutMs: number): Promise<{ sockets: WebSocket[], errors: number }> {
  const sockets: WebSocket[] = []
  let errors = 0
  // wss:// (issue #13): the bench's certificate is self-signed, and both TLS peers present the same one.
  const tls = isTls(e) ? { rejectUnauthorized: false } : {}
  await Promise.all(Array.from({ length: n }, async () => {
    const ws = new WebSocket(wsUrl(e), { perMessageDeflate: false, handshakeTimeout: timeoutMs, maxPayload: 64 * 1024 * 1024, ...tls })
    ws.on('error', () => {})
    try {
      await Promise.race([
        once(ws, 'open'),
        once(ws, 'close').then(() => { throw new Error('closed before open') })
      ])
      sockets.push(ws)
    } catch {
      errors++
      ws.terminate()
    }
  }))
  return { sockets, errors }
}

export async function wsEchoLoad (e: Endpoint, { connections, payloadBytes, seconds, binary }: WsLoadOptions): Promise<WsLoadResult> {
  const { sockets, errors: openErrors } = await openAll(e, connections, 10_000)
  let errors = openErrors
  const payload = binary ? Buffer.alloc(payloadBytes, 0x61) : 'x'.repeat(payloadBytes)
  const rtt = new Samples()
  let messages = 0
  let bytes = 0
  let inFlight = 0
  let lastEchoAt = 0
  const started = performance.now()
  const endAt = started + seconds * 1000
  for (const ws of sockets) {
    let sentAt = 0
    const send = (): void => {
      sentAt = performance.now()
      inFlight++
      ws.send(payload, { binary })
    }
    ws.on('message', (data: Buffer) => {
      const now = performance.now()
      inFlight--
      lastEchoAt = now
      rtt.add((now - sentAt) * 1000)
      messages++
      bytes += data.length
      if (now < endAt && ws.readyState === WebSocket.OPEN) send()
    })
    ws.on('close', () => { if (performance.now() < endAt) errors++ })
    send()
  }
  await sleep(Math.max(0, endAt - performance.now()))
  // Let the last echoes land (bounded), so they are not counted as lost.
  const drainUntil = performance.now() + 2000
  while (inFlight > 0 && performance.now() < drainUntil) await sleep(5)
  // Up to the last echo: the drain's polling must not count as time.
  const elapsed = (Math.max(lastEchoAt, endAt) - started) / 1000
  for (const ws of sockets) ws.terminate()
  const [p50, p99] = rtt.percentiles([50, 99])
  return {
    messages,
    seconds: elapsed,
    msgsPerSec: messages / elapsed,
    bytesPerSec: bytes / elapsed,
    p50Us: p50 ?? Number.NaN,
    p99Us: p99 ?? Number.NaN,
    errors: errors + inFlight
  }
}
