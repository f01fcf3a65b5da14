import { spawnSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { socketPathFor, type Backends, type ServiceId } from './backends.js'
import { freePort, REPO_ROOT, spawnChild, tsxArgs, type Child } from './children.js'
import type { Endpoint, TcpEndpoint } from './endpoint.js'
import { pollUntil } from './load/poll.js'
import { findNginx, proxyConfig, startNginx, type NginxBinary } from './nginx.js'
import type { BenchOptions } from './options.js'
import { peerArgv, type PeerRoute } from './peers/peer-args.js'
import { collectGarbage, inspectorUrl } from './inspector-gc.js'
import { childPids } from './proc-stats.js'
import type { BenchCert } from './tls-cert.js'

/**
 * The targets of issue #5, each routing `/<svc>/ui/*` to `DIR/<svc>/ui.sock`
 * with the prefix stripped: direct (no proxy, the limit), sockrouter, nginx,
 * http-proxy and @fastify/http-proxy. Every proxy is a child process of its
 * own, so its RSS, fds and CPU time are its own.
 */

export const TARGET_IDS = ['direct', 'sockrouter', 'nginx', 'http-proxy', 'fastify-http-proxy'] as const
export type TargetId = typeof TARGET_IDS[number]

export const TARGET_LABELS: Readonly<Record<TargetId, string>> = {
  direct: 'direct',
  sockrouter: 'sockrouter',
  nginx: 'nginx',
  'http-proxy': 'http-proxy',
  'fastify-http-proxy': '@fastify/http-proxy'
}

export interface RunningTarget {
  readonly id: TargetId
  /** Where a client reaches `path` of `service` through this target. */
  endpoint (service: ServiceId, path: string): Endpoint
  /** The same through the target's TLS listener (HTTP/2 and HTTP/1.1 by ALPN, issue #13), or null without one. */
  tlsEndpoint (service: ServiceId, path: string): TcpEndpoint | null
  /** The processes whose RSS, fds and CPU are the target's; empty for direct. */
  pids (): number[]
  /** A full GC in the target, where it has one (Node targets); resolves at once otherwise. */
  collectGarbage (): Promise<void>
  stop (): Promise<void>
}

/** How to start one instance of a proxy: a fresh one per start-up trial, or the long-lived one. */
export interface ProxyLauncher {
  readonly id: Exclude<TargetId, 'direct'>
  /** Whether `spawn` can add a TLS listener on `tlsPort` (issue #13). */
  readonly tls: boolean
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

/**
 * `cert`: give sockrouter and nginx a TLS listener each, serving it, for the
 * HTTP/2 and wss scenarios; null when none of them runs, so the other
 * scenarios measure the same processes as before issue #13.
 */
export function makeLaunchers (options: BenchOptions, tempDir: string, backends: Backends, nginx = findNginx(), cert: BenchCert | null = null): LauncherSet {
  const routes = routesOf(backends)
  const skipped: string[] = []
  const routerDir = options.routerDir ?? REPO_ROOT
  const routerTls = cert !== null && routerHasTls(routerDir)
  if (cert !== null && !routerTls) skipped.push(`sockrouter in ${routerDir} has no --tls-cert (issue #13): the HTTP/2 and wss scenarios run without it`)
  let instance = 0
  // The long-lived Node targets: inspector for forced GCs, and a CPU profile each (`<target>.cpuprofile`) on request.
  const benchNodeFlags = (id: TargetId): string[] => [
    INSPECT,
    ...(options.cpuProfDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`, `--cpu-prof-name=${id}.cpuprofile`])
  ]
  const sockrouter: ProxyLauncher = {
    id: 'sockrouter',
    tls: routerTls,
    spawn (port, mode, tlsPort) {
      const bench = mode === 'bench'
      const tls = tlsPort === undefined || cert === null
        ? []
        : ['--listen', `https://127.0.0.1:${tlsPort}`, '--tls-cert', cert.certFile, '--tls-key', cert.keyFile]
      const nodeFlags = bench ? benchNodeFlags('sockrouter') : []
      // Its access log goes to a file, as in production; a pipe would make the harness pay for reading it.
      const logFd = bench ? openSync(join(tempDir, `sockrouter-${++instance}.log`), 'w') : null
      try {
        return spawnChild('sockrouter', process.execPath, [
          ...nodeFlags,
          join(routerDir, 'bin', 'sockrouter'),
          '--socket-dir', backends.socketDir,
          '--listen', `127.0.0.1:${port}`,
          ...tls,
          '--log-level', bench ? options.routerLogLevel : 'warn',
          // The idle-tunnel scenario opens thousands of tunnels from one IP; the default caps (tunnels and connections per IP) are 1000.
          '--max-tunnels', '100000',
          '--max-tunnels-per-ip', '100000'
          // An env var, not a flag: a --router-dir checkout from before issue #10 would refuse an unknown flag.
        ], { stdout: logFd ?? 'ignore', env: { SOCKROUTER_MAX_CONNECTIONS_PER_IP: '100000' } })
      } finally {
        if (logFd !== null) closeSync(logFd)
      }
    }
  }
  const node = (id: 'http-proxy' | 'fastify-http-proxy', file: string): ProxyLauncher => ({
    id,
    tls: false,
    spawn: (port, mode) => spawnChild(id, process.execPath, [...(mode === 'bench' ? benchNodeFlags(id) : []), ...tsxArgs(file, peerArgv({ port, routes }))], { stdinPipe: true })
  })
  const launchers: ProxyLauncher[] = [sockrouter]
  if (nginx !== null) {
    const nginxTls = cert !== null && nginx.h2
    if (cert !== null && !nginx.h2) skipped.push(`nginx ${nginx.version} lacks the ssl or http_v2 module: the HTTP/2 and wss scenarios run without it`)
    launchers.push({
      id: 'nginx',
      tls: nginxTls,
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
  for (const [id, pkg, file] of [
    ['http-proxy', 'http-proxy', 'bench/peers/http-proxy-peer.ts'],
    ['fastify-http-proxy', '@fastify/http-proxy', 'bench/peers/fastify-http-proxy-peer.ts']
  ] as const) {
    if (isInstalled(pkg)) launchers.push(node(id, file))
    else skipped.push(`skipped ${TARGET_LABELS[id]}: the npm package ${pkg} is not installed (npm ci installs the dev dependencies)`)
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
  let workers: number[] = []
  return {
    id: launcher.id,
    endpoint: (service, path) => ({ kind: 'tcp', port, path: `/${service}/ui${path}` }),
    tlsEndpoint: (service, path) => (tlsPort === null ? null : { kind: 'tcp', port: tlsPort, path: `/${service}/ui${path}`, tls: true }),
    async collectGarbage () {
      const url = inspectorUrl(child)
      if (url !== null) await collectGarbage(url)
    },
    pids () {
      // nginx: the master and its worker(s); a Node proxy has no children of its own.
      if (launcher.id === 'nginx' && workers.length === 0) workers = childPids(child.pid)
      return [child.pid, ...workers]
    },
    // Long enough for sockrouter's graceful drain and a --cpu-prof write.
    stop: () => child.stop(15_000)
  }
}
