/**
 * The fuzz run's backends, on real unix sockets in the socket dir (issue
 * #10): `fz/b` is a plain HTTP canary that never switches protocols (no
 * 'upgrade' listener, so Node serves an Upgrade request as a normal one),
 * `fz/ws` is a `ws` echo server, and `fz/raw` answers every handshake with
 * 200 and keeps reading, as a backend that refuses an upgrade but not the
 * connection does: any byte it gets after such a head came through a
 * tunnel the router should never have opened. All log every request they
 * receive and answer with its method and target, so a client can tell
 * which of its requests were served.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { WebSocketServer } from 'ws'
import { forwardedPeer } from './case-address.js'

export interface Arrival {
  readonly backend: 'b' | 'ws' | 'raw'
  readonly method: string
  readonly url: string
  readonly hostLines: number
  readonly upgrade: boolean
  /** An earlier request on the same backend connection asked to upgrade: the router spliced a refused handshake. */
  readonly afterUpgrade: boolean
  /** The client address the router forwarded it for (case-address.ts), or null. */
  readonly client: string | null
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
  const client = forwardedPeer(req.headers['x-forwarded-for'])
  backends.onArrival({ backend, method: req.method ?? '', url: req.url ?? '', hostLines, upgrade, afterUpgrade, client })
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

function rawAnswer (method: string, url: string, close: boolean): string {
  const body = `seen ${method} ${url}\n`
  return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${close ? 'Connection: close\r\n' : ''}\r\n${body}`
}

/**
 * Reads one head per connection. A plain request is answered with
 * `Connection: close`; an upgrade gets 200 and the connection stays open,
 * and whatever arrives after its head is reported once, as a request
 * received after an upgrade.
 */
function startRawBackend (backends: CanaryBackends): NetServer {
  return createNetServer((socket) => {
    socket.on('error', () => socket.destroy())
    let buffered = ''
    let upgrade: boolean | null = null
    let reported = false
    let client: string | null = null
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1')
      if (upgrade === null) {
        const end = buffered.indexOf('\r\n\r\n')
        if (end === -1) {
          if (buffered.length > 128 * 1024) socket.destroy()
          return
        }
        const head = buffered.slice(0, end)
        buffered = buffered.slice(end + 4)
        upgrade = /^upgrade:/im.test(head)
        const [method = '', url = ''] = head.split(' ')
        const lines = head.split('\r\n')
        const hostLines = lines.filter((l) => /^host:/i.test(l)).length
        client = forwardedPeer(lines.filter((l) => /^x-forwarded-for:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1)))
        backends.onArrival({ backend: 'raw', method, url, hostLines, upgrade, afterUpgrade: false, client })
        socket.write(rawAnswer(method, url, !upgrade))
        if (!upgrade) socket.end()
      }
      if (upgrade && buffered.length > 0 && !reported) {
        reported = true
        const line = /^([A-Za-z]+) (\S+)/.exec(buffered)
        backends.onArrival({ backend: 'raw', method: line?.[1] ?? '?', url: line?.[2] ?? JSON.stringify(buffered.slice(0, 60)), hostLines: 0, upgrade: false, afterUpgrade: true, client })
      }
    })
  })
}

function listen (server: Server | NetServer, path: string): Promise<void> {
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
  const raw = startRawBackend(backends)
  const rawSockets = new Set<Socket>()
  raw.on('connection', (socket: Socket) => { rawSockets.add(socket); socket.on('close', () => rawSockets.delete(socket)) })
  await listen(raw, join(socketDir, 'fz', 'raw.sock'))
  backends.close = async () => {
    for (const socket of rawSockets) socket.destroy()
    await new Promise<void>((resolve) => raw.close(() => resolve()))
    for (const c of wss.clients) c.terminate()
    wss.close()
    for (const s of [plain, ws]) {
      s.closeAllConnections()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    }
  }
  return backends
}
