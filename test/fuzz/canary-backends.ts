/**
 * The fuzz run's backends, on real unix sockets in the socket dir (issue
 * #10): `fz/b` is a plain HTTP canary that never switches protocols (no
 * 'upgrade' listener, so Node serves an Upgrade request as a normal one and
 * keeps reading the connection), `fz/ws` is a `ws` echo server. Both log
 * every request they receive and answer with its method and target, so a
 * client can tell which of its requests were served.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import { WebSocketServer } from 'ws'

export interface Arrival {
  readonly backend: 'b' | 'ws'
  readonly method: string
  readonly url: string
  readonly hostLines: number
  readonly upgrade: boolean
  /** An earlier request on the same backend connection asked to upgrade: the router spliced a refused handshake. */
  readonly afterUpgrade: boolean
}

export interface CanaryBackends {
  /** Called for every request either backend receives, as it arrives. */
  onArrival: (a: Arrival) => void
  close (): Promise<void>
}

const upgradedSockets = new WeakSet<Socket>()

function record (backends: CanaryBackends, backend: 'b' | 'ws', req: IncomingMessage, upgrade: boolean): void {
  const socket = req.socket
  const afterUpgrade = upgradedSockets.has(socket)
  if (upgrade) upgradedSockets.add(socket)
  let hostLines = 0
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]?.toLowerCase() === 'host') hostLines++
  backends.onArrival({ backend, method: req.method ?? '', url: req.url ?? '', hostLines, upgrade, afterUpgrade })
}

function answer (req: IncomingMessage, res: ServerResponse): void {
  req.on('error', () => {})
  req.resume()
  req.on('end', () => {
    const body = `seen ${req.method ?? ''} ${req.url ?? ''}\n`
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
}

function listen (server: Server, path: string): Promise<void> {
  rmSync(path, { force: true })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => resolve())
  })
}

export async function startCanaryBackends (socketDir: string): Promise<CanaryBackends> {
  mkdirSync(join(socketDir, 'fz'), { recursive: true })
  const backends: CanaryBackends = { onArrival: () => {}, close: async () => {} }
  const plain = createServer((req, res) => {
    record(backends, 'b', req, req.headers.upgrade !== undefined)
    answer(req, res)
  })
  const ws = createServer((req, res) => {
    record(backends, 'ws', req, false)
    answer(req, res)
  })
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 })
  ws.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    record(backends, 'ws', req, true)
    wss.handleUpgrade(req, socket, head, (client) => {
      client.on('error', () => client.terminate())
      client.on('message', (data, isBinary) => client.send(data as Buffer, { binary: isBinary }))
    })
  })
  for (const s of [plain, ws]) {
    s.on('connection', (socket: Socket) => socket.on('error', () => socket.destroy()))
    s.on('clientError', (_err, socket: Socket) => socket.destroy())
  }
  await listen(plain, join(socketDir, 'fz', 'b.sock'))
  await listen(ws, join(socketDir, 'fz', 'ws.sock'))
  backends.close = async () => {
    for (const c of wss.clients) c.terminate()
    wss.close()
    for (const s of [plain, ws]) {
      s.closeAllConnections()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    }
  }
  return backends
}
