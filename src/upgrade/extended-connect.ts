import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse, ServerHttp2Stream } from 'node:http2'
import type { GatewayError } from '../forward/gateway-errors.js'
import { endAnsweredStream, refuseStream, respondRelayed, respondTunnelOpen } from './answer-stream.js'
import { buildUpstreamHead } from './build-upstream-head.js'
import { checkExtendedConnect } from './check-extended-connect.js'
import { judgeUpgradeResponse } from './check-upgrade-response.js'
import { createRouteLoggers } from './route-loggers.js'
import { startUpgrade } from './run-upgrade.js'
import type { UpgradeDeps } from './upgrade-deps.js'
import type { UpgradeProtocol } from './upgrade-protocol.js'

/** The h2 server's handler for a CONNECT with `:protocol` (listen/h2-server.ts). */
export type ExtendedConnectListener = (req: Http2ServerRequest, res: Http2ServerResponse) => void

/** An extended CONNECT has no bytes after its head: the stream's DATA frames are read as they come. */
const NO_HEAD = Buffer.alloc(0)

/**
 * RFC 8441 on an HTTP/2 stream, proxied to an HTTP/1.1 WebSocket backend
 * (issue #13): the router is the backend's WebSocket client, with its own
 * key, and a final answer that is a 2xx but not a verified 101 gets 502,
 * since a 2xx to an extended CONNECT tells the client the tunnel is open
 * (RFC 8441 §5, RFC 9110 §9.3.6): its body would be read as WebSocket frames.
 */
const EXTENDED_CONNECT: Omit<UpgradeProtocol<ServerHttp2Stream>, 'refuse'> = {
  http: '2',
  check: checkExtendedConnect,
  buildHead: (req, match, handshake, proxies) => buildUpstreamHead(req, match, proxies, handshake.key),
  judge: (head, handshake) => {
    const verdict = judgeUpgradeResponse(head, handshake.key)
    return verdict === 'relay' && head.status < 300 ? 'invalid' : verdict
  },
  sendHead: respondRelayed,
  finish: endAnsweredStream,
  confirm: respondTunnelOpen
}

/**
 * The shared steps read `headers`, `rawHeaders`, `url`, `method`, the
 * HTTP version and `socket` (for its peer address and TLS state), which an
 * Http2ServerRequest has as well; `headersDistinct`, which it lacks, is read
 * only for HTTP/1.1 (build-upstream-head.ts). `:authority` is its Host once
 * checkRequestHost ran (routing/request-host.ts).
 */
function asUpgradeRequest (req: Http2ServerRequest): IncomingMessage {
  return req as unknown as IncomingMessage
}

/** The tunnel entry for RFC 8441 extended CONNECTs; the steps are in run-upgrade.ts. */
export function createExtendedConnectHandler (deps: UpgradeDeps): ExtendedConnectListener {
  const logFor = createRouteLoggers(deps.logger)
  return (req, res) => {
    // A refusal is written through the response, as the h2 server's own are (forward/write-stream-error.ts).
    const protocol = { ...EXTENDED_CONNECT, refuse: (_stream: ServerHttp2Stream, err: GatewayError) => refuseStream(res, err) }
    startUpgrade(asUpgradeRequest(req), req.stream, NO_HEAD, protocol, deps, logFor)
  }
}
