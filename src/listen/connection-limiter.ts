import type { Server, Socket } from 'node:net'
import type { Logger } from 'pino'
import { GatewayError } from '../forward/gateway-errors.js'
import { writeRawError } from '../forward/write-raw-error.js'

export interface ConnectionLimits {
  /** Client connections open at once across every listener, WebSocket tunnels included. */
  readonly maxConnections: number
  /** The same, per client IP; clients on a unix listener only count towards the total. */
  readonly maxConnectionsPerIp: number
}

/** Seconds a refused client is asked to wait (RFC 9110 §10.2.3), as for refused tunnels. */
const RETRY_AFTER_SECONDS = 5

/**
 * How long a refused connection is kept after its 503, reading and dropping
 * what the client sends, so that closing it with unread bytes does not reset
 * the connection before the client has read the 503 (nginx's lingering close).
 */
const REFUSED_LINGER_MS = 1000

type ConnectionListener = (socket: Socket) => void

/**
 * The client IP a connection counts against: IPv4-mapped IPv6 addresses
 * (`::ffff:127.0.0.1` on a dual-stack listener) count as the IPv4 address;
 * a unix listener's clients have none.
 */
export function clientIpOf (socket: Socket): string | undefined {
  const ip = socket.remoteAddress
  if (ip === undefined || ip === '') return undefined
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip
}

/**
 * Caps client connections in total and per client IP across all listeners
 * (issue #10, defect 8: 20,000 slowloris connections had used every fd and
 * legitimate requests got RST). The check runs when a connection is
 * accepted, before Node's HTTP parser is attached, so an over-limit
 * connection costs one fd for a moment and its bytes never reach a backend:
 * it gets a raw 503 with Retry-After and `Connection: close`, written without
 * reading the request, and is closed. A connection leaves the count when its
 * socket closes, so a connection that became a WebSocket tunnel stays
 * counted for the tunnel's life, on top of the --max-tunnels limits.
 */
export class ConnectionLimiter {
  readonly #limits: ConnectionLimits
  readonly #perIp = new Map<string, number>()
  readonly #log: Logger | undefined
  /** Refused connections past this many are closed as soon as their 503 is written, not lingered on. */
  readonly #maxLingering: number
  #open = 0
  #lingering = 0
  #refused = 0

  constructor (limits: ConnectionLimits, log?: Logger) {
    this.#limits = limits
    this.#log = log
    this.#maxLingering = Math.max(8, Math.floor(limits.maxConnections / 32))
  }

  get limits (): ConnectionLimits {
    return this.#limits
  }

  /** Admitted connections open now. */
  get open (): number {
    return this.#open
  }

  /** Connections refused since start. */
  get refused (): number {
    return this.#refused
  }

  /**
   * Puts this limiter in front of the server's own `connection` listener
   * (Node's, which attaches the HTTP parser): that listener only ever sees
   * admitted sockets. An accept error that reaches the server (libuv
   * handles EMFILE itself by accepting and closing) is logged, never thrown
   * as an unhandled `error`. `answer` false: a refused connection is closed
   * without the raw 503, which a TLS or HTTP/2 client could not read (issue #13).
   */
  guard (server: Server, answer = true): void {
    const listeners = server.listeners('connection') as ConnectionListener[]
    for (const listener of listeners) server.off('connection', listener)
    server.on('connection', (socket: Socket) => {
      if (!this.#admit(socket, answer)) return
      for (const listener of listeners) listener.call(server, socket)
    })
    // Only once listening: until then, listenOn's own listener turns an error into a startup failure.
    server.once('listening', () => server.on('error', (err: NodeJS.ErrnoException) => {
      if (err.syscall === 'accept') this.#log?.warn({ err: { code: err.code } }, 'cannot accept a connection')
      else this.#log?.error({ err: { code: err.code, syscall: err.syscall } }, 'listener error')
    }))
  }

  #admit (socket: Socket, answer: boolean): boolean {
    const ip = clientIpOf(socket)
    const perIp = ip === undefined ? 0 : this.#perIp.get(ip) ?? 0
    if (this.#open >= this.#limits.maxConnections || perIp >= this.#limits.maxConnectionsPerIp) {
      this.#refuse(socket, ip, answer)
      return false
    }
    this.#open++
    if (ip !== undefined) this.#perIp.set(ip, perIp + 1)
    // on, not once: a socket closes once, and once() adds a wrapper and its state for the connection's whole life (issue #14).
    socket.on('close', () => {
      this.#open--
      if (ip !== undefined) decrement(this.#perIp, ip)
    })
    return true
  }

  /** Node's HTTP listener, which would handle socket errors, never sees this socket. */
  #refuse (socket: Socket, ip: string | undefined, answer: boolean): void {
    socket.on('error', () => socket.destroy())
    this.#refused++
    // One line per refusal would let a flood fill the log; every 1,000th stands for the rest.
    if (this.#refused % 1000 === 1) {
      this.#log?.warn({ ip, open: this.#open, refused: this.#refused, ...this.#limits }, 'connection limit reached: refusing connections with 503')
    }
    if (!answer) {
      socket.destroy()
      return
    }
    writeRawError(socket, new GatewayError('service_unavailable', { message: 'Too many open connections.', retryAfter: RETRY_AFTER_SECONDS }))
    if (this.#lingering >= this.#maxLingering) {
      socket.once('finish', () => socket.destroy())
      return
    }
    this.#lingering++
    const timer = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS)
    socket.once('close', () => {
      clearTimeout(timer)
      this.#lingering--
    })
    // The server's sockets allow half-open connections: the client's FIN alone would not close it.
    socket.once('end', () => socket.destroy())
    socket.resume()
  }
}

function decrement (counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1
  if (left === 0) counts.delete(key)
  else counts.set(key, left)
}
