import { EventEmitter } from 'node:events'
import { Writable } from 'node:stream'
import pino, { type Logger } from 'pino'
import { ClusterChannel, type ChannelPort } from '../../src/cluster/cluster-channel.js'

/**
 * One end of an in-memory IPC pipe for the cluster unit tests (issue #14):
 * what `send` writes arrives at the other end on a later turn, through
 * structured clone, as node:cluster's `serialization: 'advanced'` pipe
 * delivers it. `connected = false` is a peer that is gone; `failSend` makes
 * `send` throw as Node's ERR_IPC_CHANNEL_CLOSED does.
 */
export class MemoryPort extends EventEmitter implements ChannelPort {
  peer: MemoryPort | null = null
  connected = true
  failSend = false
  readonly sent: unknown[] = []

  send (message: unknown, _handle?: undefined, _options?: undefined, callback?: (error: Error | null) => void): boolean {
    if (this.failSend) throw Object.assign(new Error('Channel closed'), { code: 'ERR_IPC_CHANNEL_CLOSED' })
    this.sent.push(message)
    const copy = structuredClone(message)
    setImmediate(() => {
      if (this.peer?.connected === true) this.peer.emit('message', copy)
      callback?.(null)
    })
    return true
  }
}

/** Two ends of one pipe. */
export function portPair (): [MemoryPort, MemoryPort] {
  const a = new MemoryPort()
  const b = new MemoryPort()
  a.peer = b
  b.peer = a
  return [a, b]
}

/** A primary's and a worker's ClusterChannel over one in-memory pipe. */
export function channelPair (): { primary: ClusterChannel, worker: ClusterChannel, ports: [MemoryPort, MemoryPort] } {
  const ports = portPair()
  return { primary: new ClusterChannel(ports[0]), worker: new ClusterChannel(ports[1]), ports }
}

/** A pino logger at debug whose lines the test reads back. */
export function capturingLogger (): { log: Logger, lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const log = pino({ level: 'debug' }, new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const text of chunk.toString().split('\n')) if (text !== '') lines.push(JSON.parse(text) as Record<string, unknown>)
      done()
    }
  }))
  return { log, lines }
}
