import { discovery } from './discovery.js'
import { httpBig, httpClosingBackend, httpOneConnection, httpSmall, httpSmallStatic } from './http.js'
import { idleTunnels } from './idle-tunnels.js'
import { startup } from './startup.js'
import { startupWays } from './startup-ways.js'
import type { Scenario } from './types.js'
import { wsBig, wsEcho } from './websocket.js'

/** Every scenario of issues #5 and #10, in the order a round runs them. */
export const SCENARIOS: readonly Scenario[] = [
  httpSmall,
  httpSmallStatic,
  httpOneConnection,
  httpBig,
  httpClosingBackend,
  wsEcho,
  wsBig,
  idleTunnels,
  startup,
  startupWays,
  discovery
]
