import { startupSnapshot } from 'node:v8'
// Loaded, and their module bodies run, while the snapshot is built (issue #11,
// start-up): what a plain `serve` needs from node_modules. Their state is
// captured then; what they read of the process (env, pid) at load time is
// either not used by the router (pino's default pid and hostname: the logger
// sets its own `base`) or read again on use.
import fastify from 'fastify'
import replyFrom from '@fastify/reply-from'
import pino from 'pino'
import * as chokidar from 'chokidar'
import * as undici from 'undici'
// Required by fastify on the first fastify() (build/snapshot-plugin.mjs resolves them as fastify does).
import fastifyCompilers from 'sockrouter-snapshot:fastify-compilers'
// node:crypto is safe in a snapshot, unlike node:http (see build/lazy-builtin.cjs); the route table hashes with it.
import 'node:crypto'
import { main } from './main.js'
import { warmUpForSnapshot } from './snapshot-warm-up.js'

// Named and touched, so that esbuild keeps them (chokidar says it has no side
// effects) and undici's shim loads its connector and its Pool (whose
// client.js read of node:http's maxHeaderSize at load time the build moves to
// first use: build/snapshot-plugin.mjs).
const warmed = [fastify, replyFrom, pino, chokidar, undici.buildConnector, undici.Pool, fastifyCompilers]

// The snapshot is taken once the event loop is empty, so this finishes first; a failure fails the build.
warmUpForSnapshot().catch((err: unknown) => {
  process.stderr.write(`snapshot warm-up failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})

// The router's own modules are loaded at build time too: none reads the
// process at load (the default --socket-dir is worked out when options are
// parsed, the default trusted-proxy list holds no BlockList), so argv, env,
// cwd and HOME are the run's.
startupSnapshot.setDeserializeMainFunction(() => {
  if (warmed.length === 0) return
  main(process.argv.slice(2), process.env).then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`sockrouter: failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  })
})
