import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import { connect } from 'node:net'

export interface HttpResult {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly rawHeaders: readonly string[]
  readonly body: Buffer
  readonly text: string
}

export interface HttpOptions {
  method?: string
  headers?: OutgoingHttpHeaders
  body?: Buffer | string
  socketPath?: string
}

/** A plain node:http request with no agent, so no connection is shared between tests. */
export function httpGet (url: string, options: HttpOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false, socketPath: options.socketPath }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString() })
      })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/**
 * Writes raw bytes and returns everything the router sends back until it
 * closes the connection or `idleMs` pass without data. fetch and node:http
 * normalise paths, so path-attack tests need this.
 */
export function rawExchange (port: number, payload: string, idleMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const finish = (): void => { socket.destroy(); resolve(Buffer.concat(chunks).toString('latin1')) }
    socket.setTimeout(idleMs, finish)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('end', finish)
    socket.on('close', finish)
    socket.on('error', reject)
    socket.write(payload)
  })
}

/** Status code of the first response in a raw exchange. */
export function statusOf (raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0)
}
