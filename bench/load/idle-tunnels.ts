import { connect, type Socket } from 'node:net'
import { LOOPBACK, netConnectOptions, type Endpoint } from '../endpoint.js'

/**
 * Many idle WebSocket tunnels, opened with raw sockets (a `ws` client per
 * tunnel would cost the harness more than the target). Each tunnel does the
 * handshake, then one 8-byte echo end to end, so it is known to reach the
 * backend (a proxy that terminates WebSocket itself answers the 101 before it
 * has dialled the backend). Then it sits idle until `closeAll`.
 */

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
// A masked text frame "tunnel!!" with an all-zero mask: FIN+text, MASK|8, mask, payload.
const PING = Buffer.concat([Buffer.from([0x81, 0x88, 0, 0, 0, 0]), Buffer.from('tunnel!!')])
// The echo comes back unmasked: 2 header bytes + 8 payload bytes.
const ECHO_BYTES = 10

function handshake (e: Endpoint): string {
  const host = e.kind === 'tcp' ? `${LOOPBACK}:${e.port}` : 'localhost'
  return `GET ${e.path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`
}

function openTunnel (e: Endpoint, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(netConnectOptions(e))
    let received = Buffer.alloc(0)
    let upgraded = false
    const fail = (why: string): void => {
      clearTimeout(timer)
      socket.destroy()
      reject(new Error(why))
    }
    const timer = setTimeout(() => fail('timed out'), timeoutMs)
    socket.on('error', (err) => fail(err.message))
    socket.on('close', () => fail('closed'))
    socket.once('connect', () => socket.write(handshake(e)))
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (!upgraded) {
        const end = received.indexOf('\r\n\r\n')
        if (end === -1) return
        if (!received.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) { fail(received.subarray(0, 40).toString('latin1')); return }
        upgraded = true
        received = received.subarray(end + 4)
        socket.write(PING)
      }
      if (received.length >= ECHO_BYTES) {
        clearTimeout(timer)
        socket.removeAllListeners('data')
        socket.removeAllListeners('close')
        socket.removeAllListeners('error')
        socket.on('error', () => {})
        resolve(socket)
      }
    })
  })
}

export interface OpenTunnels {
  readonly sockets: Socket[]
  readonly failures: number
  readonly firstFailure: string | null
}

/** Opens `count` tunnels, `concurrency` at a time, giving up on what is left at `deadlineMs`. */
export async function openIdleTunnels (e: Endpoint, count: number, { concurrency, deadlineMs }: { concurrency: number, deadlineMs: number }): Promise<OpenTunnels> {
  const sockets: Socket[] = []
  let failures = 0
  let firstFailure: string | null = null
  let next = 0
  const stopAt = performance.now() + deadlineMs
  const worker = async (): Promise<void> => {
    while (next < count && performance.now() < stopAt) {
      next++
      try {
        sockets.push(await openTunnel(e, Math.max(1, Math.min(10_000, stopAt - performance.now()))))
      } catch (err) {
        failures++
        firstFailure ??= (err as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  failures += count - next
  return { sockets, failures, firstFailure }
}

export function closeAll (sockets: readonly Socket[]): void {
  for (const s of sockets) s.destroy()
}
