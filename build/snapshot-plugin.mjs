// The esbuild plugin for the snapshot build of the binary (issue #11,
// start-up). The binary's bundle runs at BUILD time under `node
// --build-snapshot` semantics, so the modules it loads then must be ones V8
// can serialize. Node 26 cannot snapshot node:http, https, tls or http2 (their
// parser and session bindings are native state), so they become
// build/lazy-builtin.cjs objects that load the real module on first use, and
// the one dependency that takes a class from node:http at load time (undici's
// core/util.js: `const { IncomingMessage } = require('node:http')`) reads it
// on use instead.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const LAZY = ['http', 'https', 'tls', 'http2']
const LAZY_ID = /^(node:)?(http|https|tls|http2)$/

/** The keys of each module and the plain data that is baked, asked of the Node that builds and runs the snapshot. */
function describeBuiltins (node) {
  const script = `const lazy = ${JSON.stringify(LAZY)}
const keys = Object.fromEntries(lazy.map((m) => [m, Object.getOwnPropertyNames(require(m))]))
const baked = { http: { STATUS_CODES: require('http').STATUS_CODES, METHODS: require('http').METHODS }, http2: { constants: require('http2').constants } }
process.stdout.write(JSON.stringify({ keys, baked }))`
  return JSON.parse(execFileSync(node, ['-e', script], { encoding: 'utf8' }))
}

/** undici's one load-time read of node:http, rewritten to a read on use; the build fails if undici changed it. */
function patchUndiciUtil (source, path) {
  const from = ["const { IncomingMessage } = require('node:http')", '=== IncomingMessage)']
  const to = ["const nodeHttp = require('node:http')", '=== nodeHttp.IncomingMessage)']
  let out = source
  for (let i = 0; i < from.length; i++) {
    if (out.split(from[i]).length !== 2) throw new Error(`snapshot build: ${path} no longer has \`${from[i]}\` exactly once; update build/snapshot-plugin.mjs`)
    out = out.replace(from[i], to[i])
  }
  return out
}

/**
 * undici's client.js reads `http.maxHeaderSize` (which follows the run's
 * --max-http-header-size) at load time to pick a default; rewritten to read
 * it on use, so the Pool can be in the snapshot. The build fails if undici
 * changed it.
 */
function patchUndiciClient (source, path) {
  const from = `const getDefaultNodeMaxHeaderSize = http &&
  http.maxHeaderSize &&
  Number.isInteger(http.maxHeaderSize) &&
  http.maxHeaderSize > 0
  ? () => http.maxHeaderSize
  : () => { throw new InvalidArgumentError('http module not available or http.maxHeaderSize invalid') }`
  const to = `const getDefaultNodeMaxHeaderSize = () => {
  if (http && Number.isInteger(http.maxHeaderSize) && http.maxHeaderSize > 0) return http.maxHeaderSize
  throw new InvalidArgumentError('http module not available or http.maxHeaderSize invalid')
}`
  if (source.split(from).length !== 2) throw new Error(`snapshot build: ${path} no longer has its load-time read of http.maxHeaderSize exactly once; update build/snapshot-plugin.mjs`)
  return source.replace(from, to)
}

/**
 * @fastify/reply-from makes an `https.Agent` in `buildRequest`, which loads
 * node:https and node:tls (and starts Node's loading of the CA
 * certificates) on every start, for a router that forwards through undici
 * and never uses that agent (it only serves reply-from's own http.request
 * path). Rewritten to make the agent on first use, the same agent on every
 * use after (issue #14, start-up). The build fails if reply-from changed it.
 */
function patchReplyFromRequest (source, path) {
  const from = "'https:': new https.Agent(httpOpts.agentOptions)"
  const to = "get 'https:' () { const agent = new https.Agent(httpOpts.agentOptions); Object.defineProperty(this, 'https:', { value: agent, enumerable: true }); return agent }"
  if (source.split(from).length !== 2) throw new Error(`snapshot build: ${path} no longer makes its https.Agent with \`${from}\` exactly once; update build/snapshot-plugin.mjs`)
  return source.replace(from, to)
}

/**
 * `sockrouter-snapshot:fastify-compilers`: the modules fastify requires on the
 * first `fastify()` (its schema compilers, ajv and ajv-formats in them), which
 * the snapshot entry loads at build time. Resolved from fastify's own
 * directory, the way fastify resolves them, so they are the very copies that
 * fastify's require() finds already loaded at run time.
 */
function fastifyCompilerPaths (root) {
  const fromFastify = createRequire(createRequire(join(root, 'package.json')).resolve('fastify'))
  const ajvCompiler = fromFastify.resolve('@fastify/ajv-compiler')
  return [ajvCompiler, createRequire(ajvCompiler).resolve('ajv-formats'), fromFastify.resolve('@fastify/fast-json-stringify-compiler')]
}

export function snapshotPlugin ({ root, node }) {
  const { keys, baked } = describeBuiltins(node)
  const helper = join(root, 'build', 'lazy-builtin.cjs')
  return {
    name: 'snapshot-safe-builtins',
    setup (build) {
      build.onResolve({ filter: /^sockrouter-snapshot:fastify-compilers$/ }, () => ({ path: 'fastify-compilers', namespace: 'sockrouter-snapshot' }))
      build.onLoad({ filter: /.*/, namespace: 'sockrouter-snapshot' }, () => ({
        contents: `module.exports = [${fastifyCompilerPaths(root).map((p) => `require(${JSON.stringify(p)})`).join(', ')}]`,
        loader: 'js',
        resolveDir: root
      }))
      build.onResolve({ filter: LAZY_ID }, (args) => args.namespace === 'lazy-builtin'
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' })
      build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, ({ path: name }) => ({
        contents: `module.exports = require(${JSON.stringify(helper)})(${JSON.stringify(name)}, ${JSON.stringify(keys[name])}, ${JSON.stringify(baked[name] ?? {})}, () => require('node:${name}'))`,
        loader: 'js',
        resolveDir: root
      }))
      build.onLoad({ filter: /[\\/]undici[\\/]lib[\\/]core[\\/]util\.js$/ }, ({ path }) => ({
        contents: patchUndiciUtil(readFileSync(path, 'utf8'), path),
        loader: 'js'
      }))
      build.onLoad({ filter: /[\\/]@fastify[\\/]reply-from[\\/]lib[\\/]request\.js$/ }, ({ path }) => ({
        contents: patchReplyFromRequest(readFileSync(path, 'utf8'), path),
        loader: 'js'
      }))
      build.onLoad({ filter: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/ }, ({ path }) => ({
        contents: patchUndiciClient(readFileSync(path, 'utf8'), path),
        loader: 'js'
      }))
    }
  }
}
