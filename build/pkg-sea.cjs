'use strict'
// Runs under the Node 26 base itself (pkg 6.23's SEA needs Node >= 22, and
// its blob must come from the same Node version that reads it). It calls
// pkg's simple-SEA step directly rather than through its CLI, which in
// simple mode has no way to pass seaConfig. Simple mode spreads seaConfig
// into sea-config.json, so `useSnapshot` reaches Node: the bundle runs once
// here, under `node --build-snapshot` rules, and the blob holds the V8 heap
// it leaves (its modules loaded and their code compiled) instead of a code
// cache, which a snapshot makes redundant (Node says so if both are set).
// The binary deserializes that heap and runs the bundle's
// v8.startupSnapshot.setDeserializeMainFunction (src/cli/snapshot-entry.ts)
// instead of loading the bundle (issue #11, start-up).
// argv: ENTRY OUTPUT NODE_RANGE
const sea = require('@yao-pkg/pkg/lib-es5/sea.js').default

const [entry, output, nodeRange] = process.argv.slice(2)
sea(entry, {
  targets: [{ nodeRange, platform: 'linux', arch: 'x64', output }],
  signature: false,
  // execArgv applies at run time. A young generation of 8 MB from the start: the default starts small and
  // grows, and the scavenges on the way to the first request (3-4 of them,
  // 10-30 ms) go away; idle RSS stays the same (issue #11, start-up).
  seaConfig: { useSnapshot: true, execArgv: ['--min-semi-space-size=8'] }
}).catch((err) => {
  process.stderr.write(`pkg --sea failed: ${err && err.message ? err.message : String(err)}\n`)
  process.exit(1)
})
