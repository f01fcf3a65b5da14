import { mkdir } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { dirname } from 'node:path'
import { WebSocketServer } from 'ws'
import { clearStaleSocket } from '../listen/clear-stale-socket.js'
import { demoPage } from './demo-page.js'

export interface DemoService {
  readonly socketPath: string
  close (): Promise<void>
}

function prefixOf (req: IncomingMessage): string {
  const value = req.headers['x-forwarded-prefix']
  return typeof value === 'string' && value.startsWith('/') ? value : ''
}

function streamTicks (req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  let n = 0
  const send = (): void => { res.write(`data: ${++n}\n\n`) }
  send()
  const timer = setInterval(send, 1000)
  req.socket.once('close', () => clearInterval(timer))
}

function handle (req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0]
  if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(demoPage(prefixOf(req)))
  } else if (path === '/events') {
    streamTicks(req, res)
  } else if (path === '/api/info') {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }, null, 2))
  } else {
    res.writeHead(404, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: 'not_found', path }))
  }
}

/** A small service on a unix socket: a page, SSE at /events, JSON at /api/info, a WebSocket echo at /ws. */
export async function startDemoService (socketPath: string): Promise<DemoService> {
  await mkdir(dirname(socketPath), { recursive: true })
  const server = createServer(handle)
  const wss = new WebSocketServer({ noServer: true })
  wss.on('connection', (ws) => {
    ws.on('error', () => ws.terminate())
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))
  })
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy())
    if ((req.url ?? '').split('?')[0] !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })
  const state = await clearStaleSocket(socketPath)
  if (state === 'live' || state === 'not-a-socket') {
    throw Object.assign(new Error(`cannot start the demo service: ${socketPath} is in use (is another demo running?)`), { code: 'EADDRINUSE' })
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => resolve())
  })
  return {
    socketPath,
    close: async () => {
      for (const client of wss.clients) client.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
