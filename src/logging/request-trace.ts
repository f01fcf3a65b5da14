import { performance } from 'node:perf_hooks'
import type { Socket } from 'node:net'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isHttp2Request } from '../forward/is-http2-request.js'

/** What a request's start leaves for those who look at it once its response closed. */
export interface RequestTrace {
  readonly startedAt: number
  /** Held here because Node detaches req.socket and res.socket before `close`. */
  readonly socket: Socket
  /**
   * The connection's counters when the request began; -1 on HTTP/2, which
   * multiplexes streams on one socket, so its counters say nothing about one
   * response, and once the session is gone Node's proxy for that socket
   * throws on every read (issue #13).
   */
  readonly writtenAtStart: number
  readonly readAtStart: number
  /** Read at the start: once the socket is closed, Node can no longer ask for its peer (absent on a unix listener). */
  readonly remote: string | undefined
}

/** Told once per request, when its response closed: finished, failed, or cut off by the client. */
export type TraceObserver = (request: FastifyRequest, reply: FastifyReply, trace: RequestTrace) => void

export function startTrace (request: FastifyRequest): RequestTrace {
  const socket = request.raw.socket
  const h2 = isHttp2Request(request.raw)
  return {
    startedAt: performance.now(),
    socket,
    writtenAtStart: h2 ? -1 : socket.bytesWritten,
    readAtStart: h2 ? -1 : socket.bytesRead,
    remote: socket.remoteAddress
  }
}

/**
 * One onRequest hook and one `close` listener per request for every observer
 * (the access log and the metrics): a hook, a closure, a listener and a clock
 * read each per observer showed up in the request path's profile (issue #14,
 * docs/hot-path.md). Observers run on the response's `close`, which, unlike
 * Fastify's onResponse, also fires when the client leaves mid-stream (an
 * SSE tab closed). Registered first, so the requests the later checks refuse
 * are seen too.
 */
export function registerRequestTrace (app: FastifyInstance, observers: readonly TraceObserver[]): void {
  const list = [...observers]
  app.addHook('onRequest', (request, reply, done) => {
    const trace = startTrace(request)
    reply.raw.on('close', () => {
      for (const observe of list) observe(request, reply, trace)
    })
    done()
  })
}
