/**
 * The real router (startRouter) in a child process of its own, so the fuzz
 * run reads its RSS and fd count from /proc/<pid> without the harness's own
 * sockets in the figures. Options come as one JSON argument; the port goes
 * back over the IPC channel. Logs go to stdout at info, which the harness
 * discards: the access log's code runs, nothing fills the disk.
 */
import { Socket } from 'node:net'
import pino from 'pino'
import { parseListenAddress } from '../../src/listen/listen-address.js'
import { startRouter } from '../../src/start-router.js'

export interface RouterChildOptions {
  readonly socketDir: string
  readonly maxTunnels?: number
  readonly maxTunnelsPerIp?: number
  readonly connectTimeoutMs?: number
  readonly upstreamTimeoutMs?: number
}

export type ParentMessage = { kind: 'gc' } | { kind: 'sockets' }

/** A client TCP socket the router still holds, for naming the case behind an fd left over. */
export interface HeldSocket {
  readonly remotePort: number
  readonly readableEnded: boolean
  readonly writableEnded: boolean
  readonly bytesRead: number
  readonly bytesWritten: number
}

export type ChildMessage = { kind: 'ready', port: number } | { kind: 'gc-done', heapUsed: number } | { kind: 'sockets', sockets: HeldSocket[] }

/** Node's undocumented list of live handles: the only way to see sockets nobody references any more. */
function heldClientSockets (port: number): HeldSocket[] {
  const handles = (process as unknown as { _getActiveHandles (): unknown[] })._getActiveHandles()
  return handles.filter((h): h is Socket => h instanceof Socket && h.localPort === port).map((s) => ({
    remotePort: s.remotePort ?? 0,
    readableEnded: s.readableEnded,
    writableEnded: s.writableEnded,
    bytesRead: s.bytesRead,
    bytesWritten: s.bytesWritten
  }))
}

const options = JSON.parse(process.argv[2] ?? '{}') as RouterChildOptions
const router = await startRouter({
  socketDir: options.socketDir,
  listen: [parseListenAddress('127.0.0.1:0')],
  upstreamTimeoutMs: options.upstreamTimeoutMs ?? 10_000,
  connectTimeoutMs: options.connectTimeoutMs ?? 2_000,
  shutdownGraceMs: 1_000,
  ...(options.maxTunnels === undefined ? {} : { maxTunnels: options.maxTunnels }),
  ...(options.maxTunnelsPerIp === undefined ? {} : { maxTunnelsPerIp: options.maxTunnelsPerIp }),
  logger: pino({ level: 'info' })
})
const first = router.listeners[0]?.address
const send = (m: ChildMessage): void => { process.send?.(m) }
const port = first?.kind === 'tcp' ? first.port : 0
process.on('message', (m: ParentMessage) => {
  if (m.kind === 'sockets') {
    send({ kind: 'sockets', sockets: heldClientSockets(port) })
    return
  }
  globalThis.gc?.()
  send({ kind: 'gc-done', heapUsed: process.memoryUsage().heapUsed })
})
// The harness going away (even SIGKILLed) closes the channel: never outlive it.
process.on('disconnect', () => { void router.close().finally(() => process.exit(0)) })
process.on('SIGTERM', () => { void router.close().finally(() => process.exit(0)) })
send({ kind: 'ready', port })
