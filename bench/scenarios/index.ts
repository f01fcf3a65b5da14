import { discovery } from './discovery.js'
import { httpBig, httpClosingBackend, httpOneConnection, httpSmall, httpSmallStatic } from './http.js'
import { h2Big, h2Small, httpsSmall } from './https.js'
import { idleTunnels } from './idle-tunnels.js'
import { metricsCost } from './metrics-cost.js'
import { startup } from './startup.js'
import { tunnelSoak } from './tunnel-soak.js'
import type { Scenario } from './types.js'
import { wsBig, wsEcho } from './websocket.js'
import { h2WsEcho, wssEcho } from './wss.js'

/** Every scenario of issues #5, #10, #13 and #14, in the order a round runs them ('once' ones after the rounds). */
export const SCENARIOS: readonly Scenario[] = [
  httpSmall,
  httpSmallStatic,
  httpOneConnection,
  httpBig,
  httpClosingBackend,
  wsEcho,
  wsBig,
  h2Small,
  httpsSmall,
  h2Big,
  wssEcho,
  h2WsEcho,
  idleTunnels,
  startup,
  tunnelSoak,
  metricsCost,
  discovery
]

/** Names `--only` also takes, each for several scenarios: `--only tls` runs issue #13's. */
export const SCENARIO_GROUPS: Readonly<Record<string, readonly string[]>> = {
  tls: SCENARIOS.filter((s) => s.tls === true).map((s) => s.id),
  // Issue #11's scenario; `startup` now times each way of running sockrouter as a target of its own (issue #14).
  'startup-ways': ['startup']
}
