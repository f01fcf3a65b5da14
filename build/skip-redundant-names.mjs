// issue #14, docs/hot-path.md: the bundle's `__name` helper skips what it would not change.

/**
 * keepNames makes esbuild wrap functions in `__name(fn, "name")`, an
 * Object.defineProperty run each time the function is created: also for the
 * closures Fastify's hook runner, reply-from and undici make per request. In
 * the plain bundle local names are kept as written, so nearly every such
 * function already has its name, and the rewritten helper returns it as is.
 * A function esbuild renamed (`run2`) still gets its own name back. Not for
 * the snapshot build: its names are minified, so none would match.
 */
const NAME_HELPER = 'var __name=(target,value)=>__defProp(target,"name",{value,configurable:!0});'
const SKIPPING_HELPER = 'var __name=(target,value)=>target.name===value?target:__defProp(target,"name",{value,configurable:!0});'

export function skipRedundantNames (code) {
  // Loud rather than a silent loss of the saving when an esbuild upgrade words its helper differently.
  if (!code.includes(NAME_HELPER)) throw new Error('esbuild\'s __name helper changed: update build/skip-redundant-names.mjs')
  return code.replace(NAME_HELPER, SKIPPING_HELPER)
}
