import { mkdirSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import { dirname } from 'node:path'
import { once } from 'node:events'
import { WebSocket, WebSocketServer, type ClientOptions, type ServerOptions } from 'ws'
import { listenOnSocket } from './listen-socket.js'
import { DEADLINE_MS, withTimeout } from './wait-for.js'

// Kept here too for the tests that import it from this file.
export { withTimeout }

interface Teardown { teardown (fn: () => unknown): void }

function prepare (socketPath: string): void {
  mkdirSync(dirname(socketPath), { recursive: true })
  rmSync(socketPath, { force: true })
}

export interface SeenUpgrade {
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly rawHeaders: readonly string[]
}

export interface WsBackend {
  readonly socketPath: string
  readonly server: Server
  readonly wss: WebSocketServer
  /** Every upgrade request that reached the backend. */
  readonly seen: SeenUpgrade[]
  /** Server-side sockets, live ones only. */
  readonly clients: Set<WebSocket>
  /** Resolves with the next server-side connection. */
  nextConnection (timeoutMs?: number): Promise<WebSocket>
  close (): Promise<void>
}

export type WsBackendOptions = Pick<ServerOptions, 'perMessageDeflate' | 'handleProtocols' | 'maxPayload'> & {
  /** Replaces the default echo. */
  onConnection?: (ws: WebSocket) => void
}

/** A real `ws` server on a real unix socket, echoing every message back as it came (text or binary). */
export async function startWsBackend (t: Teardown, socketPath: string, options: WsBackendOptions = {}): Promise<WsBackend> {
  prepare(socketPath)
  const seen: SeenUpgrade[] = []
  const server = createHttpServer((_req, res) => { res.writeHead(200); res.end('plain http') })
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: options.perMessageDeflate ?? false,
    maxPayload: options.maxPayload ?? 64 * 1024 * 1024,
    ...(options.handleProtocols === undefined ? {} : { handleProtocols: options.handleProtocols })
  })
  server.on('upgrade', (req, socket, head) => {
    seen.push({ url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders })
    socket.on('error', () => socket.destroy())
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })
  wss.on('connection', (ws) => {
    ws.on('error', () => ws.terminate())
    if (options.onConnection !== undefined) options.onConnection(ws)
    else ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }))
  })
  await listenOnSocket(server, socketPath)
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    for (const ws of wss.clients) ws.terminate()
    wss.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  t.teardown(close)
  return {
    socketPath,
    server,
    wss,
    seen,
    clients: wss.clients,
    nextConnection: (timeoutMs = DEADLINE_MS) => withTimeout(once(wss, 'connection').then(([ws]) => ws as WebSocket), timeoutMs, 'backend connection'),
    close
  }
}

export interface RawConnection {
  readonly socket: Socket
  /** Every byte the backend received on this connection, latin1. */
  received: string
}

export interface RawBackend {
  readonly socketPath: string
  readonly server: NetServer
  readonly connections: RawConnection[]
  close (): Promise<void>
}

/**
 * A backend that speaks raw bytes: once a request head has arrived it writes
 * `answer(head)` (nothing if null) and keeps the connection open, recording
 * everything it receives afterwards. That lets a test prove that bytes sent
 * behind a refused handshake never reach it.
 */
export async function startRawBackend (t: Teardown, socketPath: string, answer: (head: string) => string | Buffer | null): Promise<RawBackend> {
  prepare(socketPath)
  const connections: RawConnection[] = []
  const server = createNetServer((socket) => {
    const conn: RawConnection = { socket, received: '' }
    connections.push(conn)
    let answered = false
    socket.on('error', () => socket.destroy())
    socket.on('data', (chunk: Buffer) => {
      conn.received += chunk.toString('latin1')
      const end = conn.received.indexOf('\r\n\r\n')
      if (answered || end === -1) return
      answered = true
      const reply = answer(conn.received.slice(0, end + 4))
      if (reply !== null) socket.write(reply)
    })
  })
  await listenOnSocket(server, socketPath)
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    for (const c of connections) c.socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  t.teardown(close)
  return { socketPath, server, connections, close }
}

/** Opens a `ws` client and resolves once it is open; rejects with the handshake failure otherwise. */
export function openClient (url: string, protocols?: string | string[], options: ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, { perMessageDeflate: false, ...options })
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`unexpected response ${res.statusCode ?? 0}`), { status: res.statusCode, headers: res.headers }))
      ws.terminate()
    })
  }), 10_000, `WebSocket open ${url}`)
}

/** Resolves with the next message on `ws`. */
export function nextMessage (ws: WebSocket, timeoutMs = DEADLINE_MS): Promise<{ data: Buffer, isBinary: boolean }> {
  return withTimeout(new Promise((resolve) => {
    ws.once('message', (data, isBinary) => resolve({ data: Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer), isBinary }))
  }), timeoutMs, 'WebSocket message')
}

/** A valid RFC 6455 §4.1 handshake as raw text, for tests that need byte control. */
export function handshakeHead (path: string, port: number, extra: Record<string, string> = {}, key = 'dGhlIHNhbXBsZSBub25jZQ=='): string {
  const headers: Record<string, string> = {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
    ...extra
  }
  return `GET ${path} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n'
}
