'use strict'
// What the snapshot build of the binary gets for node:http, https, tls and
// http2 (issue #11, start-up; see build/snapshot-plugin.mjs). Those four hold
// native parser and session state that V8 cannot put in a start-up snapshot:
// loading one while the snapshot is built aborts it with "global handle not
// serialized ... CheckGlobalAndEternalHandles failed". Here the module is an
// object with the real module's keys, and the real module is loaded on the
// first use of any of them, which happens after the snapshot is deserialized,
// so the values are Node's own. `baked` holds the few plain-data keys that
// the dependencies read at load time (http.STATUS_CODES in fastify,
// http2.constants in @fastify/reply-from), copied from the same Node binary.
const { startupSnapshot } = require('node:v8')

module.exports = function lazyBuiltin (name, keys, baked, load) {
  let real = null
  const lazy = {}
  for (const key of keys) {
    if (Object.hasOwn(baked, key)) {
      lazy[key] = baked[key]
      continue
    }
    Object.defineProperty(lazy, key, {
      enumerable: true,
      configurable: true,
      get () {
        if (real === null) {
          // A clear build failure instead of V8's abort a moment later: whatever reads this at load time must stay out of the snapshot.
          if (startupSnapshot.isBuildingSnapshot()) throw new Error(`node:${name}.${key} was read while the snapshot was built (it cannot be in a snapshot): ${new Error().stack.split('\n').slice(2, 4).join(' ').trim()}`)
          real = load()
        }
        return real[key]
      },
      set (value) {
        real ??= load()
        real[key] = value
      }
    })
  }
  return lazy
}
