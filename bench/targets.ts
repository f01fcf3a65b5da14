import { spawnSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { socketPathFor, type Backends, type ServiceId } from './backends.js'
import { freePort, REPO_ROOT, spawnChild, tsxArgs, type Child } from './children.js'
import type { Endpoint, TcpEndpoint } from './endpoint.js'
import { pollUntil } from './load/poll.js'
import { findNginx, proxyConfig, startNginx, type NginxBinary } from './nginx.js'
import type { BenchOptions } from './options.js'
import { peerArgv, type PeerRoute } from './peers/peer-args.js'
import { collectGarbage, inspectorUrls } from './inspector-gc.js'
import { childPids } from './proc-stats.js'
import { nodeMajor, type RouterWays } from './router-ways.js'
import type { BenchCert } from './tls-cert.js'

/**
 * The targets of issues #5 and #14, each routing `/<svc>/ui/*` to
 * `DIR/<svc>/ui.sock` with the prefix stripped: direct (no proxy, the limit),
 * sockrouter three ways (source through tsx and the bundle on the machine's
 * Node, the single binary on its own Node) plus the binary with
 * `--workers 2`, nginx, and http-proxy and @fastify/http-proxy on both
 * Nodes. Every proxy is a child process of its own, so its RSS, fds and CPU
 * time are its own (a cluster's primary and workers, nginx's master and
 * worker, summed).
 */

export const TARGET_IDS = [
  'direct',
  'sockrouter-binary',
  'sockrouter-w2',
  'sockrouter-bundle',
  'sockrouter-source',
  'nginx',
  'http-proxy-binary-node',
  'fastify-http-proxy-binary-node',
  'http-proxy',
  'fastify-http-proxy'
] as const
export type TargetId = typeof TARGET_IDS[number]

/** `--targets` names that stand for several targets. */
export const TARGET_GROUPS: Readonly<Record<string, readonly TargetId[]>> = {
  sockrouter: ['sockrouter-binary', 'sockrouter-w2', 'sockrouter-bundle', 'sockrouter-source'],
  peers: ['http-proxy-binary-node', 'fastify-http-proxy-binary-node', 'http-proxy', 'fastify-http-proxy']
}

export function isSockrouter (id: TargetId): boolean {
  return id.startsWith('sockrouter')
}

/** The Node versions the targets run on, for their labels: the machine's, and the binary's (its peers' too). */
export interface TargetNodes {
  readonly machine: string
  readonly binary: string | null
}

/** The column heading of a target, with the Node it runs on (issue #14: like is compared with like). */
export function targetLabel (id: TargetId, nodes: TargetNodes): string {
  const machine = `Node ${nodeMajor(nodes.machine)}`
  const binary = `Node ${nodeMajor(nodes.binary)}`
  switch (id) {
    case 'direct': return 'direct'
    case 'sockrouter-binary': return `sockrouter binary (${binary})`
    case 'sockrouter-w2': return `sockrouter binary, 2 workers (${binary})`
    case 'sockrouter-bundle': return `sockrouter bundle (${machine})`
    case 'sockrouter-source': return `sockrouter source (${machine})`
    case 'nginx': return 'nginx'
    case 'http-proxy-binary-node': return `http-proxy (${binary})`
    case 'fastify-http-proxy-binary-node': return `@fastify/http-proxy (${binary})`
    case 'http-proxy': return `http-proxy (${machine})`
    case 'fastify-http-proxy': return `@fastify/http-proxy (${machine})`
  }
}

/**
 * The targets of the scenarios that do not run on every target (reach
 * `core`, to keep a full run inside its deadline): direct, nginx, one
 * sockrouter (the binary, else the bundle, else the source) and the Node
 * peers on that sockrouter's Node.
 */
export function coreTargets (present: readonly TargetId[]): Set<TargetId> {
  const has = (id: TargetId): boolean => present.includes(id)
  const router = (['sockrouter-binary', 'sockrouter-bundle', 'sockrouter-source'] as const).find(has)
  // With no sockrouter at all (--targets nginx,peers), the binary's Node is still the one issue #14 judges on.
  const onBinaryNode = (router === 'sockrouter-binary' || router === undefined) && (has('http-proxy-binary-node') || has('fastify-http-proxy-binary-node'))
  const peers: TargetId[] = onBinaryNode ? ['http-proxy-binary-node', 'fastify-http-proxy-binary-node'] : ['http-proxy', 'fastify-http-proxy']
  const all: TargetId[] = ['direct', 'nginx', ...(router === undefined ? [] : [router]), ...peers]
  return new Set(all.filter(has))
}

export interface RunningTarget {
  readonly id: TargetId
  /** Where a client reaches `path` of `service` through this target. */
  endpoint (service: ServiceId, path: string): Endpoint
  /** The same through the target's TLS listener (HTTP/2 and HTTP/1.1 by ALPN, issue #13), or null without one. */
  tlsEndpoint (service: ServiceId, path: string): TcpEndpoint | null
  /** The processes whose RSS, fds and CPU are the target's; empty for direct. */
  pids (): number[]
  /** A full GC in the target (every process of it), where it has one (Node targets); resolves at once otherwise. */
  collectGarbage (): Promise<void>
  stop (): Promise<void>
}

/** How to start one instance of a proxy: a fresh one per start-up trial, or the long-lived one. */
export interface ProxyLauncher {
  readonly id: Exclude<TargetId, 'direct'>
  /** Whether `spawn` can add a TLS listener on `tlsPort` (issue #13). */
  readonly tls: boolean
  /** Worker processes it forks (`--workers 2`); the harness waits for them and sums them in. 0: none to wait for. */
  readonly workers: number
  /** `bench`: the long-lived instance the loads run against. `startup`: a throwaway for timing. */
  spawn (port: number, mode: 'bench' | 'startup', tlsPort?: number): Child
}

function isInstalled (pkg: string): boolean {
  try {
    createRequire(join(REPO_ROOT, 'package.json')).resolve(pkg)
    return true
  } catch {
    return false
  }
}

/** Lets the harness force a GC before reading RSS (see inspector-gc.ts); idle until then. */
const INSPECT = '--inspect=127.0.0.1:0'

function routesOf (backends: Backends): PeerRoute[] {
  const routes: PeerRoute[] = []
  for (const service of ['json', 'ws', 'static', 'closing'] as const) {
    const socketPath = backends.sockets[service]
    if (socketPath !== null) routes.push({ prefix: `/${service}/ui`, socketPath, ws: service === 'ws' })
  }
  return routes
}

/**
 * Whether the sockrouter in `routerDir` has TLS listeners (issue #13): a
 * --router-dir checkout from before them would refuse the flags and not start.
 */
function routerHasTls (routerDir: string): boolean {
  const help = spawnSync(process.execPath, [join(routerDir, 'bin', 'sockrouter'), '--help'], { encoding: 'utf8', timeout: 30_000 })
  return help.stdout.includes('--tls-cert')
}

export interface LauncherSet {
  readonly launchers: ProxyLauncher[]
  /** One line per peer this machine lacks. */
  readonly skipped: string[]
  readonly nginx: NginxBinary | null
}

type RouterId = 'sockrouter-binary' | 'sockrouter-w2' | 'sockrouter-bundle' | 'sockrouter-source'

/** How one way of sockrouter is started: the command, what goes before the router's own argv, and whether Node flags go in NODE_OPTIONS. */
interface RouterCommand {
  readonly command: string
  readonly prefix: readonly string[]
  /** The single binary takes every argv word as its own, so Node's flags reach it through NODE_OPTIONS. */
  readonly flagsInEnv: boolean
  readonly extra: readonly string[]
}

function routerCommands (ways: RouterWays): Partial<Record<RouterId, RouterCommand>> {
  const commands: Partial<Record<RouterId, RouterCommand>> = {
    'sockrouter-source': { command: process.execPath, prefix: ways.sourceViaTsx ? ['--import', 'tsx', ways.sourceEntry] : [ways.sourceEntry], flagsInEnv: false, extra: [] }
  }
  if (ways.bundle !== null) commands['sockrouter-bundle'] = { command: process.execPath, prefix: [ways.bundle], flagsInEnv: false, extra: [] }
  if (ways.binary !== null) {
    commands['sockrouter-binary'] = { command: ways.binary, prefix: [], flagsInEnv: true, extra: [] }
    if (ways.binaryHasWorkers) commands['sockrouter-w2'] = { command: ways.binary, prefix: [], flagsInEnv: true, extra: ['--workers', '2'] }
  }
  return commands
}

/**
 * `cert`: give one sockrouter (the binary, else the bundle, else the source)
 * and nginx a TLS listener each, serving it, for the HTTP/2 and wss
 * scenarios; null when none of them runs, so the other scenarios measure the
 * same processes as before issue #13.
 */
export function makeLaunchers (options: BenchOptions, tempDir: string, backends: Backends, ways: RouterWays, nginx = findNginx(), cert: BenchCert | null = null): LauncherSet {
  const routes = routesOf(backends)
  const skipped: string[] = []
  const routerDir = options.routerDir ?? REPO_ROOT
  const routerTls = cert !== null && routerHasTls(routerDir)
  if (cert !== null && !routerTls) skipped.push(`sockrouter in ${routerDir} has no --tls-cert (issue #13): the HTTP/2 and wss scenarios run without it`)
  let instance = 0
  // The long-lived Node targets: inspector for forced GCs, and a CPU profile each (`<target>.cpuprofile`) on request.
  const benchNodeFlags = (id: TargetId, processes = 1): string[] => [
    INSPECT,
    // Several processes would overwrite one name; Node's default names carry the pid.
    ...(options.cpuProfDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`, ...(processes > 1 ? [] : [`--cpu-prof-name=${id}.cpuprofile`])])
  ]
  const commands = routerCommands(ways)
  const tlsRouter = (['sockrouter-binary', 'sockrouter-bundle', 'sockrouter-source'] as const).find((id) => commands[id] !== undefined)
  const router = (id: RouterId, how: RouterCommand): ProxyLauncher => {
    const workers = id === 'sockrouter-w2' ? 2 : 0
    return {
      id,
      tls: routerTls && id === tlsRouter,
      workers,
      spawn (port, mode, tlsPort) {
        const bench = mode === 'bench'
        const tls = tlsPort === undefined || cert === null
          ? []
          : ['--listen', `https://127.0.0.1:${tlsPort}`, '--tls-cert', cert.certFile, '--tls-key', cert.keyFile]
        const nodeFlags = bench ? benchNodeFlags(id, workers + 1) : []
        // Its access log goes to a file, as in production; a pipe would make the harness pay for reading it.
        const logFd = bench ? openSync(join(tempDir, `${id}-${++instance}.log`), 'w') : null
        try {
          return spawnChild(id, how.command, [
            ...(how.flagsInEnv ? [] : nodeFlags),
            ...how.prefix,
            '--socket-dir', backends.socketDir,
            '--listen', `127.0.0.1:${port}`,
            ...tls,
            ...how.extra,
            '--log-level', bench ? options.routerLogLevel : 'warn',
            // The idle-tunnel scenarios open thousands of tunnels from one IP; the default caps (tunnels and connections per IP) are 1000.
            '--max-tunnels', '100000',
            '--max-tunnels-per-ip', '100000'
            // An env var, not a flag: a --router-dir checkout from before issue #10 would refuse an unknown flag.
          ], {
            stdout: logFd ?? 'ignore',
            env: { SOCKROUTER_MAX_CONNECTIONS_PER_IP: '100000', ...(how.flagsInEnv && nodeFlags.length > 0 ? { NODE_OPTIONS: nodeFlags.join(' ') } : {}) }
          })
        } finally {
          if (logFd !== null) closeSync(logFd)
        }
      }
    }
  }
  const launchers: ProxyLauncher[] = []
  for (const id of ['sockrouter-binary', 'sockrouter-w2', 'sockrouter-bundle', 'sockrouter-source'] as const) {
    const how = commands[id]
    if (how !== undefined) launchers.push(router(id, how))
  }
  const peer = (id: Exclude<TargetId, 'direct' | RouterId | 'nginx'>, file: string, node: string): ProxyLauncher => ({
    id,
    tls: false,
    workers: 0,
    spawn: (port, mode) => spawnChild(id, node, [...(mode === 'bench' ? benchNodeFlags(id) : []), ...tsxArgs(file, peerArgv({ port, routes }))], { stdinPipe: true })
  })
  if (nginx !== null) {
    const nginxTls = cert !== null && nginx.h2
    if (cert !== null && !nginx.h2) skipped.push(`nginx ${nginx.version} lacks the ssl or http_v2 module: the HTTP/2 and wss scenarios run without it`)
    launchers.push({
      id: 'nginx',
      tls: nginxTls,
      workers: 0,
      spawn (port, _mode, tlsPort) {
        const prefix = join(tempDir, `nginx-proxy-${++instance}`)
        mkdirSync(prefix, { recursive: true })
        const tls = tlsPort === undefined || cert === null ? null : { port: tlsPort, cert, version: nginx.version }
        return startNginx('nginx proxy', nginx, prefix, proxyConfig(prefix, port, routes, tls))
      }
    })
  } else {
    skipped.push('skipped nginx (target and static backend): no nginx binary; install it with `apt-get install -y nginx`')
  }
  const nodes: TargetNodes = { machine: process.version, binary: ways.binaryNodeVersion ?? ways.peerNodeVersion }
  for (const [id, onBinaryNode, pkg, file] of [
    ['http-proxy-binary-node', true, 'http-proxy', 'bench/peers/http-proxy-peer.ts'],
    ['fastify-http-proxy-binary-node', true, '@fastify/http-proxy', 'bench/peers/fastify-http-proxy-peer.ts'],
    ['http-proxy', false, 'http-proxy', 'bench/peers/http-proxy-peer.ts'],
    ['fastify-http-proxy', false, '@fastify/http-proxy', 'bench/peers/fastify-http-proxy-peer.ts']
  ] as const) {
    const node = onBinaryNode ? ways.peerNode : process.execPath
    if (!isInstalled(pkg)) skipped.push(`skipped ${targetLabel(id, nodes)}: the npm package ${pkg} is not installed (npm ci installs the dev dependencies)`)
    // The missing Node itself was one line already (router-ways.ts).
    else if (node !== null) launchers.push(peer(id, file, node))
  }
  return { launchers, skipped, nginx }
}

export function directTarget (backends: Backends): RunningTarget {
  return {
    id: 'direct',
    endpoint (service, path) {
      const socketPath = backends.sockets[service] ?? socketPathFor(backends.socketDir, service)
      return { kind: 'unix', socketPath, path }
    },
    // The backends speak cleartext HTTP/1.1 only (issue #13's premise).
    tlsEndpoint: () => null,
    pids: () => [],
    collectGarbage: async () => {},
    stop: async () => {}
  }
}

/** The endpoint every readiness and start-up check asks for: the JSON service through the proxy. */
export function readinessEndpoint (port: number): TcpEndpoint {
  return { kind: 'tcp', port, path: '/json/ui/' }
}

/** Starts the long-lived instance, with a TLS listener if `withTls`, and waits until each listener serves a routed 200. */
export async function startProxyTarget (launcher: ProxyLauncher, withTls: boolean): Promise<RunningTarget> {
  const port = await freePort()
  const tlsPort = withTls && launcher.tls ? await freePort() : null
  const child = launcher.spawn(port, 'bench', tlsPort ?? undefined)
  for (const e of [readinessEndpoint(port), ...(tlsPort === null ? [] : [{ ...readinessEndpoint(tlsPort), tls: true }])]) {
    const ready = await Promise.race([
      pollUntil(e, (s) => s === 200, { startedAt: performance.now(), timeoutMs: 30_000, intervalMs: 20 }),
      child.exited.then(() => null)
    ])
    if (ready === null) {
      await child.stop(1000)
      throw new Error(`${launcher.id} did not serve /json/ui/ on port ${e.port}${e.tls === true ? ' (TLS)' : ''} within 30 s: ${child.stderrTail() || 'no stderr'}`)
    }
  }
  if (launcher.workers > 0) await waitForWorkers(launcher, child)
  let nginxWorkers: number[] = []
  return {
    id: launcher.id,
    endpoint: (service, path) => ({ kind: 'tcp', port, path: `/${service}/ui${path}` }),
    tlsEndpoint: (service, path) => (tlsPort === null ? null : { kind: 'tcp', port: tlsPort, path: `/${service}/ui${path}`, tls: true }),
    async collectGarbage () {
      // A cluster's workers inherit NODE_OPTIONS, so each prints an inspector URL of its own on the shared stderr.
      await Promise.all(inspectorUrls(child).map(async (url) => {
        try {
          await collectGarbage(url)
        } catch {
          // A worker replaced since: its inspector went with it.
        }
      }))
    },
    pids () {
      // sockrouter --workers: the primary and its workers, looked up afresh (a dead worker is replaced).
      if (launcher.workers > 0) return [child.pid, ...childPids(child.pid)]
      // nginx: the master and its worker(s); a Node proxy has no children of its own.
      if (launcher.id === 'nginx' && nginxWorkers.length === 0) nginxWorkers = childPids(child.pid)
      return [child.pid, ...nginxWorkers]
    },
    // Long enough for sockrouter's graceful drain and a --cpu-prof write.
    stop: () => child.stop(15_000)
  }
}

/** The first 200 may come from the first worker up; the figures need them all. */
async function waitForWorkers (launcher: ProxyLauncher, child: Child): Promise<void> {
  const deadline = performance.now() + 30_000
  while (childPids(child.pid).length < launcher.workers) {
    if (performance.now() > deadline) {
      await child.stop(1000)
      throw new Error(`${launcher.id}: ${childPids(child.pid).length} of ${launcher.workers} workers after 30 s`)
    }
    await sleep(20)
  }
}
