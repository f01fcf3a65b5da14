'use strict'
// What the bundle gets for `require('undici')` (issue #11, start-up). undici's
// index loads every part at once (fetch, WebSocket, mock agents, caches, the
// interceptors): ~95 ms of a cold start, for a router that uses a Pool and a
// connector. Here each class is loaded when first used, from the same files
// the index would load, so `instanceof` and behaviour are undici's own. Any
// other name goes to the full index, loaded then: nothing is ever missing.
const Dispatcher = require('../node_modules/undici/lib/dispatcher/dispatcher.js')

// What the index does first: pool.request() and the other API methods (reply-from calls pool.request).
Object.assign(Dispatcher.prototype, require('../node_modules/undici/lib/api/index.js'))

const onUse = {
  Dispatcher,
  get Client () { return require('../node_modules/undici/lib/dispatcher/client.js') },
  get Pool () { return require('../node_modules/undici/lib/dispatcher/pool.js') },
  get BalancedPool () { return require('../node_modules/undici/lib/dispatcher/balanced-pool.js') },
  get Agent () { return require('../node_modules/undici/lib/dispatcher/agent.js') },
  get ProxyAgent () { return require('../node_modules/undici/lib/dispatcher/proxy-agent.js') },
  get buildConnector () { return require('../node_modules/undici/lib/core/connect.js') },
  get errors () { return require('../node_modules/undici/lib/core/errors.js') }
}

module.exports = new Proxy(onUse, {
  get (target, key) {
    if (key in target || typeof key !== 'string' || key === '__esModule') return target[key]
    return require('../node_modules/undici/index.js')[key]
  }
})
