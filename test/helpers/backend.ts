import { mkdirSync, rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { dirname } from 'node:path'
import { listenOnSocket } from './listen-socket.js'

export interface SeenRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  /** Raw header pairs, as sent on the wire. */
  readonly rawHeaders: readonly string[]
}

export interface Backend {
  readonly socketPath: string
  readonly server: Server
  readonly seen: SeenRequest[]
  close (): Promise<void>
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

interface Teardown { teardown (fn: () => unknown): void }

/** Answers with JSON describing the request: what the backend saw. */
export const echoHandler: Handler = (req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }))
  })
}

/** A real HTTP/1.1 backend on a real unix socket; every request is recorded. */
export async function startBackend (t: Teardown, socketPath: string, handler: Handler = echoHandler): Promise<Backend> {
  mkdirSync(dirname(socketPath), { recursive: true })
  rmSync(socketPath, { force: true })
  const seen: SeenRequest[] = []
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders })
    handler(req, res)
  })
  await listenOnSocket(server, socketPath)
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  t.teardown(close)
  return { socketPath, server, seen, close }
}
