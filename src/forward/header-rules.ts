import type { HeaderRules } from '../config/route-spec.js'
import type { HeaderMap } from './hop-headers.js'

/** A route's `set` / `remove` rules (issue #4): removals first, then sets, so `set` wins over a removal of the same name. */
export function applyHeaderRules (headers: HeaderMap, rules: HeaderRules): HeaderMap {
  for (const name of rules.remove) delete headers[name]
  for (const [name, value] of Object.entries(rules.set)) headers[name] = value
  return headers
}
