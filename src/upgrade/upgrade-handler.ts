import type { Duplex } from 'node:stream'
import type { UpgradeListener } from '../server.js'
import { buildUpstreamHead } from './build-upstream-head.js'
import { checkHandshake } from './check-handshake.js'
import { judgeUpgradeResponse } from './check-upgrade-response.js'
import { refuseUpgrade } from './close-client.js'
import { RAW_ANSWER } from './relay-response.js'
import { createRouteLoggers } from './route-loggers.js'
import { startUpgrade } from './run-upgrade.js'
import type { UpgradeDeps } from './upgrade-deps.js'
import type { UpgradeProtocol } from './upgrade-protocol.js'

export type { UpgradeDeps } from './upgrade-deps.js'

/**
 * RFC 6455 §4 on the client's own socket: the client's key is checked
 * against the backend's accept, and every answer, the 101 included, goes
 * back as the backend's raw HTTP/1.1 bytes.
 */
const HTTP1_UPGRADE: UpgradeProtocol<Duplex> = {
  http: '1.1',
  check: checkHandshake,
  buildHead: (req, match, _handshake, proxies) => buildUpstreamHead(req, match, proxies),
  judge: (head, handshake) => judgeUpgradeResponse(head, handshake.key),
  refuse: refuseUpgrade,
  ...RAW_ANSWER,
  confirm: (_client, head) => head.raw
}

/** The `upgrade` event of every listener (issue #3); the steps are in run-upgrade.ts. */
export function createUpgradeHandler (deps: UpgradeDeps): UpgradeListener {
  const logFor = createRouteLoggers(deps.logger)
  return (req, client, head) => startUpgrade(req, client, head, HTTP1_UPGRADE, deps, logFor)
}
