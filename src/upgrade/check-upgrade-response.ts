import { createHash } from 'node:crypto'
import { hasToken } from '../forward/hop-headers.js'
import type { ResponseHead } from './read-response-head.js'

/** RFC 6455 §1.3: the GUID every server appends to the key. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** RFC 6455 §4.2.2 step 5.4: base64(SHA-1(key + GUID)). */
export function expectedAccept (key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64')
}

/**
 * - `tunnel`: a valid 101; only now may bytes flow unparsed.
 * - `relay`: a final response (2xx–5xx), relayed as ordinary HTTP; a 200
 *   that claims an Upgrade is still just a 200.
 * - `invalid`: a 101 that fails the RFC 6455 §4.2.2 checks, or any other 1xx.
 *   It is answered with 502 instead of being relayed: a 1xx is interim
 *   (RFC 9110 §15.2), so passing it on would leave the client waiting for a
 *   final answer that never comes.
 */
export type UpgradeVerdict = 'tunnel' | 'relay' | 'invalid'

/**
 * Step 5's decision. The tunnel opens only on 101 with `Upgrade: websocket`,
 * `Connection: upgrade` and exactly one `Sec-WebSocket-Accept` that matches
 * the client's key (RFC 6455 §4.1, the checks a client must make). Checking
 * the accept value proves the backend really spoke WebSocket to this request;
 * a proxy that tunnels on any 101, or on anything at all, lets a client
 * smuggle raw requests to the backend behind a failed upgrade.
 */
export function judgeUpgradeResponse (head: ResponseHead, key: string): UpgradeVerdict {
  if (head.status >= 200) return 'relay'
  if (head.status !== 101) return 'invalid'
  const accepts = head.headers.get('sec-websocket-accept') ?? []
  const valid = hasToken(head.headers.get('upgrade') as string[] | undefined, 'websocket') &&
    hasToken(head.headers.get('connection') as string[] | undefined, 'upgrade') &&
    accepts.length === 1 && accepts[0] === expectedAccept(key)
  return valid ? 'tunnel' : 'invalid'
}
