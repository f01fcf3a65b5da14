import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createSecureServer } from 'node:https'
import type { TlsOptions } from 'node:tls'
import type { Duplex } from 'node:stream'

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void
type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void

const LATEST_RESPONSE = Symbol('sockrouter.latestResponse')
const PARSE_FAILED = Symbol('sockrouter.parseFailed')
const PARSE_ANSWER = Symbol('sockrouter.parseAnswer')
const CONNECTION = Symbol('sockrouter.connection')

type ConnectionSocket = Duplex & {
  [LATEST_RESPONSE]?: ServerResponse
  [PARSE_FAILED]?: boolean
  /** The parse error's answer, held for the broken request's turn (see answerClientError). */
  [PARSE_ANSWER]?: () => void
  /** Node's own: the response that currently owns the socket. */
  _httpMessage?: ServerResponse | null
}

type TrackedResponse = ServerResponse & { [CONNECTION]?: ConnectionSocket }

/**
 * Runs a request only when its response owns the socket, that is once every
 * earlier response on the connection is finished, as nginx and HAProxy read
 * the next request only after answering the last one. Node parses ahead and
 * emits pipelined requests at once; its queued responses wait in line, but
 * the requests themselves would already run (issue #10):
 * - after a response that closes the connection (`Connection: close` from
 *   the client, or a router 400), Node never gives the next response the
 *   socket: a request that waits for its turn never reaches a backend, and
 *   one that ran would have reached it unanswered and unlogged;
 * - `100 Continue` (RFC 9110 §10.1.1) is written when the request runs, so
 *   it can only follow a finished response, never land inside one. Node's
 *   own writeContinue on a queued response ends up after that response's
 *   head.
 * A response gets the socket in Node's `assignSocket`, which emits `socket`.
 */
function inTurn (start: RequestHandler): RequestHandler {
  const startIfOpen = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket as ConnectionSocket
    if (isClosing(socket)) {
      socket.destroy()
      return
    }
    const answer = socket[PARSE_ANSWER]
    if (answer !== undefined && !req.complete) {
      // This request's body is where the parser failed: it never runs, and its turn carries the error instead.
      socket[PARSE_ANSWER] = undefined
      answer()
      return
    }
    start(req, res)
  }
  return (req, res) => {
    const socket = req.socket as ConnectionSocket
    socket[LATEST_RESPONSE] = res
    ;(res as TrackedResponse)[CONNECTION] = socket
    res.on('close', forgetResponse)
    if (res.socket !== null) startIfOpen(req, res)
    else res.once('socket', () => startIfOpen(req, res))
  }
}

/**
 * A response that closes the connection ends the socket's writable side
 * (Node's destroySoon) but Node keeps parsing what the client sends after
 * it, and a request parsed once that response is finished is handed the
 * socket at once, as if it were the first. It must not run: nobody would
 * see its answer (issue #10, found by the fuzzer with a request arriving
 * behind a router 400).
 */
function isClosing (socket: Duplex): boolean {
  return socket.destroyed || !socket.writable
}

/** An idle keep-alive connection must not hold its last request and response: Node frees them too (clearIncoming). */
function forgetResponse (this: TrackedResponse): void {
  // Held on the response: Node has detached req.socket and res.socket by now.
  const socket = this[CONNECTION]
  if (socket !== undefined && socket[LATEST_RESPONSE] === this) socket[LATEST_RESPONSE] = undefined
}

/** An unfinished response on this connection, or undefined. */
function pendingResponse (socket: Duplex): ServerResponse | undefined {
  const latest = (socket as ConnectionSocket)[LATEST_RESPONSE]
  return latest === undefined || latest.destroyed ? undefined : latest
}

/**
 * An upgrade pipelined behind an unfinished response waits for it, as a
 * request does: Node hands the socket over at once, and a 101 written then
 * would land inside the earlier response. Node also drops its own socket
 * listeners on an upgrade, so meanwhile this one forwards `drain` to the
 * response still writing and owns the socket's errors. If that response
 * closed the connection, the upgrade never runs.
 */
export function upgradeInTurn (onUpgrade: UpgradeHandler): UpgradeHandler {
  return (req, socket, head) => {
    const pending = pendingResponse(socket)
    if (pending === undefined) {
      if (isClosing(socket)) socket.destroy()
      else onUpgrade(req, socket, head)
      return
    }
    const onError = (): void => { socket.destroy() }
    const onDrain = (): void => { (socket as ConnectionSocket)._httpMessage?.emit('drain') }
    socket.on('error', onError)
    socket.on('drain', onDrain)
    pending.once('close', () => {
      socket.off('drain', onDrain)
      if (socket.destroyed || !socket.writable) {
        socket.destroy()
        return
      }
      socket.off('error', onError)
      onUpgrade(req, socket, head)
    })
  }
}

/**
 * A parse error ends the connection with an error response (`answer`), but
 * only after the responses to the requests parsed before it, so that their
 * bytes are not cut off or interleaved with the error. If the error is in
 * the body of a request that is still arriving, that request cannot
 * complete and never runs: the answer goes out in its turn (now, if it is
 * already running), or, once its response head is on the wire, the
 * connection is cut. Node emits `clientError` again for every
 * later chunk the broken parser sees; only the first counts.
 */
export function answerClientError (socket: Duplex, answer: () => void): void {
  const conn = socket as ConnectionSocket
  if (conn[PARSE_FAILED] === true) return
  conn[PARSE_FAILED] = true
  const pending = pendingResponse(socket)
  if (pending === undefined) {
    answer()
  } else if (pending.req.complete) {
    pending.once('close', answer)
  } else if (conn._httpMessage !== pending && conn._httpMessage != null) {
    // The broken request still waits behind earlier responses (found by the
    // fuzzer, issue #10): they finish first, and its own turn answers.
    conn[PARSE_ANSWER] = answer
  } else if (conn._httpMessage?.headersSent === true) {
    socket.destroy()
  } else {
    answer()
  }
}

/**
 * The node:http server every HTTP/1.1 listener uses, with TLS on an
 * `https://` one. `requireHostHeader` is off so
 * that a request without Host reaches the router's own check
 * (routing/request-host.ts) and gets its JSON 400, not Node's empty one,
 * which also let the requests pipelined behind it run (issue #10, defect 11).
 */
export function createInOrderServer (handler: RequestHandler, tls?: TlsOptions): Server {
  // An https.Server is a tls.Server running node:http's connection setup on each TLS socket: the same server in every
  // other respect (issue #13), typed apart by @types/node only.
  const server = tls === undefined
    ? createServer({ requireHostHeader: false }, inTurn(handler))
    : createSecureServer({ ...tls, requireHostHeader: false }, inTurn(handler)) as unknown as Server
  server.on('checkContinue', inTurn((req, res) => {
    res.writeContinue()
    handler(req, res)
  }))
  // Any other Expect: the router answers it (forward/check-expectation.ts), in turn like every request.
  server.on('checkExpectation', inTurn(handler))
  return server
}
