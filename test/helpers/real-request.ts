import { createServer, type IncomingMessage } from 'node:http'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { listenOnSocket } from './listen-socket.js'
import { makeTempDir } from './temp-dir.js'
import { withTimeout } from './wait-for.js'

interface Teardown { teardown (fn: () => unknown): void }

export type HeaderList = Record<string, string | readonly string[]>

/** A request head as raw bytes: an array value becomes one line per element, as a client repeating a header sends it. */
export function requestHead (method: string, target: string, headers: HeaderList): string {
  const lines = Object.entries(headers).flatMap(([name, value]) => (typeof value === 'string' ? [value] : value).map((v) => `${name}: ${v}\r\n`))
  return `${method} ${target} HTTP/1.1\r\n${lines.join('')}\r\n`
}

export interface RequestParser {
  /**
   * The IncomingMessage Node's own parser makes of `raw`, on a live
   * connection: `headers` (repeats joined or dropped by Node's rules),
   * `headersDistinct` and `rawHeaders` are exactly what the router gets.
   */
  parse (raw: string, via?: 'tcp' | 'unix'): Promise<IncomingMessage>
}

/**
 * A real node:http server on 127.0.0.1 and on a unix socket (whose clients
 * have no remote address), for unit tests of the steps that read requests:
 * a hand-made fake drifts from Node on duplicate headers (issue #10, item 12).
 * Connections stay open until teardown, so `req.socket` stays live.
 */
export async function startRequestParser (t: Teardown): Promise<RequestParser> {
  const sockets = new Set<Socket>()
  const waiting: ((req: IncomingMessage) => void)[] = []
  const server = createServer()
  const take = (req: IncomingMessage): void => { waiting.shift()?.(req) }
  server.on('connection', (socket: Socket) => { sockets.add(socket); socket.on('error', () => socket.destroy()) })
  server.on('request', take)
  server.on('upgrade', take)
  server.on('checkContinue', take)
  server.on('checkExpectation', take)
  const unixServer = createServer()
  unixServer.on('connection', (socket: Socket) => { sockets.add(socket); socket.on('error', () => socket.destroy()) })
  for (const event of ['request', 'upgrade', 'checkContinue', 'checkExpectation']) unixServer.on(event, take)
  const unixPath = join(makeTempDir(t), 'parse.sock')
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  await listenOnSocket(unixServer, unixPath)
  const { port } = server.address() as { port: number }
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await Promise.all([server, unixServer].map((s) => new Promise((resolve) => s.close(resolve))))
  })
  // One connection per request, and one request at a time, so each caller gets its own.
  let queue: Promise<unknown> = Promise.resolve()
  const parseOne = (raw: string, via: 'tcp' | 'unix'): Promise<IncomingMessage> => {
    const arrived = new Promise<IncomingMessage>((resolve) => waiting.push(resolve))
    const client = via === 'tcp' ? connect(port, '127.0.0.1') : connect(unixPath)
    sockets.add(client)
    client.on('error', () => client.destroy())
    client.write(raw, 'latin1')
    return withTimeout(arrived, 10_000, `Node to parse ${JSON.stringify(raw.slice(0, 40))}`)
  }
  return {
    parse (raw, via = 'tcp') {
      const next = queue.then(() => parseOne(raw, via))
      queue = next.catch(() => {})
      return next
    }
  }
}
