import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { GatewayError } from '../forward/gateway-errors.js'
import type { TrustedProxies } from '../forward/trusted-proxies.js'
import type { RouteMatch } from '../routing/match-route.js'
import type { Handshake } from './check-handshake.js'
import type { UpgradeVerdict } from './check-upgrade-response.js'
import type { ResponseHead } from './read-response-head.js'
import type { AnswerWriter } from './relay-response.js'

/**
 * What differs between the two ways a client opens a tunnel: an HTTP/1.1
 * Upgrade on its socket (`C` = that socket) and an RFC 8441 extended CONNECT
 * on an HTTP/2 stream (`C` = that stream). Everything else, the guards and
 * their order, the backend connection, the 101 check, the framing of a
 * relayed answer, the splice and its bookkeeping, is one code path
 * (run-upgrade.ts). Stateless: one object per
 * protocol, not one per tunnel.
 */
export interface UpgradeProtocol<C extends Duplex> extends AnswerWriter<C> {
  /** The client's HTTP version, on the tunnel's log lines: `2` is an RFC 8441 tunnel. */
  readonly http: '1.1' | '2'
  /** Step 1: throws the GatewayError the client gets unless the request is a handshake this protocol tunnels. */
  check (req: IncomingMessage): Handshake
  /** Step 3: the HTTP/1.1 Upgrade request head for the backend. */
  buildHead (req: IncomingMessage, match: RouteMatch, handshake: Handshake, proxies?: TrustedProxies): string
  /** Step 5's decision on the backend's answer. */
  judge (head: ResponseHead, handshake: Handshake): UpgradeVerdict
  /** Answers a refusal by the router itself, then closes the client side. */
  refuse (client: C, err: GatewayError): void
  /** Answers a verified 101; returns the bytes the splice sends the client first. */
  confirm (client: C, head: ResponseHead): Buffer
}
