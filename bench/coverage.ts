import type { Scenario } from './scenarios/types.js'
import type { TargetId } from './targets.js'

/**
 * Which scenario runs on which target (issue #14). Ten targets on every
 * scenario would not fit a full run in its 15 minutes on 2 cores, so only
 * http-small and ws-echo (`reach: 'all'`), and start-up in a full run
 * (`full`), run on sockrouter's three ways and the peers on both Nodes; the
 * rest run on the core set (targets.ts `coreTargets`). The `--workers 2`
 * binary runs only where a scenario asks for it.
 */
export function covers (s: Scenario, t: { readonly id: TargetId, readonly tls: boolean }, core: ReadonlySet<TargetId>, quick: boolean): boolean {
  if (!s.appliesTo(t.id)) return false
  if (t.id === 'sockrouter-w2') return s.workers === true
  const reach = s.reach ?? 'core'
  const wide = reach === 'all' || (reach === 'full' && !quick)
  if (!wide && !core.has(t.id)) return false
  // A TLS scenario only against a target that has a TLS listener (issue #13).
  return s.tls !== true || t.tls
}
