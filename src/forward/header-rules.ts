import { NO_HEADER_RULES, type HeaderRules } from '../config/route-spec.js'
import type { HeaderMap } from './hop-headers.js'

/** A route's `set` / `remove` rules (issue #4): removals first, then sets, so `set` wins over a removal of the same name. Most routes have none: that shared object returns at once. */
export function applyHeaderRules (headers: HeaderMap, rules: HeaderRules): HeaderMap {
  if (rules === NO_HEADER_RULES) return headers
  for (const name of rules.remove) delete headers[name]
  for (const name in rules.set) headers[name] = rules.set[name]
  return headers
}
