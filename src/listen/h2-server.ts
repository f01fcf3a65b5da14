import { createServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { GatewayError } from '../forward/gateway-errors.js'
import { writeStreamError } from '../forward/write-stream-error.js'
import { watchStreamBody } from './request-timers.js'

export type H2RequestHandler = (req: Http2ServerRequest, res: Http2ServerResponse) => void

export interface H2ServerOptions {
  /** Fastify's handler, the same one every HTTP/1.1 listener runs. */
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void
  /** RFC 8441 extended CONNECT; left out, a CONNECT with `:protocol` gets 501. */
  readonly onExtendedConnect?: H2RequestHandler
  /** A session that has not opened a stream yet is closed after this (the HTTP/1.1 header timeout's twin); 0 = off. */
  readonly firstStreamTimeoutMs: number
  /** An idle session is closed (GOAWAY) after this, as node:http's keep-alive timeout closes an idle connection. */
  readonly idleTimeoutMs: number
  /** `--body-idle-timeout`, per stream; 0 = off. */
  readonly bodyIdleTimeoutMs: number
  readonly logger: Logger
}

/**
 * RFC 9113 §6.5.2 asks for at least 100 concurrent streams; nginx allows 128.
 * Node's default is 2^32-1, which lets one connection start any number of
 * backend requests at once.
 */
export const MAX_CONCURRENT_STREAMS = 100

/**
 * The decoded header list a stream may send (RFC 9113 §6.5.2; RFC 7541 §4.1
 * counts 32 bytes per field on top of name and value). 32 KiB covers what the
 * HTTP/1.1 listeners accept (node:http's 16 KiB head) with that overhead.
 */
export const MAX_HEADER_LIST_SIZE = 32 * 1024

/** The HTTP/2 sessions of one listener, for graceful close (GOAWAY) and the final cut. */
export interface H2Sessions {
  readonly server: Http2Server
  /** Sends GOAWAY on every session: streams in progress finish, no new ones start (RFC 9113 §6.8). */
  closeAll (): void
  destroyAll (): void
}

/**
 * The HTTP/2 side of a listener (issue #13). It never listens itself: a TLS
 * listener hands it each connection that chose `h2` by ALPN, an h2c one each
 * connection that starts with the HTTP/2 preface. Requests go to the same
 * Fastify handler as HTTP/1.1, through Node's compatibility API, so routing,
 * guards, errors, the access log and metrics are the same code.
 *
 * Against rapid reset (CVE-2023-44487) Node's nghttp2 (1.57 and later) limits
 * RST_STREAM to a burst of 1000 and 33 a second per session, then ends it
 * with GOAWAY; Node also ends a session after 100 rejected streams
 * (maxSessionRejectedStreams) or 1000 invalid frames (maxSessionInvalidFrames).
 * On top, at most MAX_CONCURRENT_STREAMS streams run per connection, and a
 * reset stream aborts its backend request (forward/http-forwarder.ts), so a
 * flood of reset streams costs the backends nothing that outlives the stream.
 */
export function createH2Server (options: H2ServerOptions): H2Sessions {
  const log = options.logger
  const server = createServer({
    settings: {
      // RFC 8441 §3: the server announces extended CONNECT before a client may use it.
      enableConnectProtocol: true,
      maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
      maxHeaderListSize: MAX_HEADER_LIST_SIZE
    },
    maxHeaderListPairs: 256
  })
  const sessions = new Set<ServerHttp2Session>()
  if (options.bodyIdleTimeoutMs > 0) server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => watchStreamBody(req, res, options.bodyIdleTimeoutMs))
  server.on('request', options.onRequest as unknown as H2RequestHandler)
  server.on('connect', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    if (req.headers[':protocol'] === undefined) {
      // A classic CONNECT (RFC 9113 §8.5): sockrouter is not a forward proxy, as on HTTP/1.1.
      writeStreamError(res, new GatewayError('method_not_allowed', { message: 'CONNECT is not supported: sockrouter is a reverse proxy.' }))
    } else if (options.onExtendedConnect !== undefined) {
      options.onExtendedConnect(req, res)
    } else {
      writeStreamError(res, new GatewayError('not_implemented'))
    }
  })
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session)
    session.on('error', (err: NodeJS.ErrnoException) => log.debug({ err: { code: err.code } }, 'http2 session error'))
    session.once('close', () => sessions.delete(session))
    const onTimeout = (): void => { session.close() }
    if (options.firstStreamTimeoutMs > 0) {
      session.setTimeout(options.firstStreamTimeoutMs, onTimeout)
      session.once('stream', () => session.setTimeout(options.idleTimeoutMs, onTimeout))
    } else {
      session.setTimeout(options.idleTimeoutMs, onTimeout)
    }
  })
  server.on('sessionError', (err: NodeJS.ErrnoException) => log.debug({ err: { code: err.code } }, 'http2 session error'))
  return {
    server,
    closeAll () {
      for (const session of sessions) session.close()
    },
    destroyAll () {
      for (const session of sessions) session.destroy()
    }
  }
}
