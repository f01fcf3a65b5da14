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

/**
 * The counting both echo loads share (over `ws`, and over RFC 8441 streams in
 * h2-ws-load.ts): one message in flight per client, each echo timed from its
 * send, until `seconds` have passed.
 */
export class EchoTally {
  readonly #rtt = new Samples()
  readonly #started = performance.now()
  readonly #endAt: number
  #messages = 0
  #bytes = 0
  #inFlight = 0
  #lastEchoAt = 0
  #errors: number

  constructor (seconds: number, errors: number) {
    this.#endAt = this.#started + seconds * 1000
    this.#errors = errors
  }

  /** A message went out; returns its send time. */
  sent (): number {
    this.#inFlight++
    return performance.now()
  }

  /** Its echo came back; true while the client should send again. */
  echoed (sentAt: number, bytes: number): boolean {
    const now = performance.now()
    this.#inFlight--
    this.#lastEchoAt = now
    this.#rtt.add((now - sentAt) * 1000)
    this.#messages++
    this.#bytes += bytes
    return now < this.#endAt
  }

  /** A client closed: an error only before the run's end. */
  closed (): void {
    if (performance.now() < this.#endAt) this.#errors++
  }

  /** Waits out the run and the last echoes, then gives the figures. */
  async finish (): Promise<WsLoadResult> {
    await sleep(Math.max(0, this.#endAt - performance.now()))
    // Let the last echoes land (bounded), so they are not counted as lost.
    const drainUntil = performance.now() + 2000
    while (this.#inFlight > 0 && performance.now() < drainUntil) await sleep(5)
    // Up to the last echo: the drain's polling must not count as time.
    const elapsed = (Math.max(this.#lastEchoAt, this.#endAt) - this.#started) / 1000
    const [p50, p99] = this.#rtt.percentiles([50, 99])
    return {
      messages: this.#messages,
      seconds: elapsed,
      msgsPerSec: this.#messages / elapsed,
      bytesPerSec: this.#bytes / elapsed,
      p50Us: p50 ?? Number.NaN,
      p99Us: p99 ?? Number.NaN,
      errors: this.#errors + this.#inFlight
    }
  }
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
  const payload = binary ? Buffer.alloc(payloadBytes, 0x61) : 'x'.repeat(payloadBytes)
  const tally = new EchoTally(seconds, openErrors)
  for (const ws of sockets) {
    let sentAt = 0
    const send = (): void => {
      sentAt = tally.sent()
      ws.send(payload, { binary })
    }
    ws.on('message', (data: Buffer) => {
      if (tally.echoed(sentAt, data.length) && ws.readyState === WebSocket.OPEN) send()
    })
    ws.on('close', () => tally.closed())
    send()
  }
  const result = await tally.finish()
  for (const ws of sockets) ws.terminate()
  return result
}
