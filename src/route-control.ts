import { access, constants, mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Logger } from 'pino'
import { ROUTER_DEFAULTS } from './config/router-defaults.js'
import type { SnapshotFeed } from './discovery/snapshot-feed.js'
import { SnapshotSource, type SnapshotReader } from './discovery/snapshot-source.js'
import { HealthProber } from './health/health-prober.js'
import { RouteHealth } from './health/route-health.js'
import { routeLogFields } from './logging/route-log-fields.js'
import { buildRouteTable, type Skipped } from './routing/build-route-table.js'
import { describeChange, type RouteChange } from './routing/diff-route-tables.js'
import { RouteStore } from './routing/route-store.js'
import type { RouterSnapshot, RouteTable } from './routing/route-types.js'

/*
 * The control side of the router: snapshots → pure table build → atomic
 * swap, with route health beside it. One process runs it inside startRouter;
 * under `--workers` (issue #14) the primary runs the whole of it once (the
 * watcher, the scan, the prober, the log lines), and each worker runs it
 * fed by the primary's snapshots, without a prober and without logging what
 * the primary already said.
 */

export class StartupError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

/** The directories of `dir` that don't exist yet, outermost first. */
async function missingDirs (dir: string): Promise<string[]> {
  const missing: string[] = []
  for (let current = dir; ; current = dirname(current)) {
    const found = await stat(current).then(() => true, (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false
      throw err
    })
    if (found) break
    missing.unshift(current)
    if (dirname(current) === current) break
  }
  return missing
}

export async function prepareSocketDir (dir: string): Promise<void> {
  try {
    // One level at a time: `mkdir(dir, { recursive: true })` spins at full CPU
    // forever under /proc, where mkdir answers ENOENT for a parent that exists (issue #10).
    for (const missing of await missingDirs(dir)) {
      await mkdir(missing).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err })
    }
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })
    await access(dir, constants.R_OK | constants.X_OK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO'
    const reason = code === 'ENOTDIR' || code === 'EEXIST'
      ? 'it is not a directory'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'ENOENT' || code === 'EPERM' || code === 'EROFS' ? `it cannot be created there (${code})` : code
    throw new StartupError('socket_dir', `cannot use socket directory ${dir}: ${reason}`)
  }
}

/**
 * Logs rejected files, skipped routes and overrides when they first appear,
 * not on every rescan: an unchanged problem is said once (issue #4).
 */
function reportOnce (log: Logger, reported: Set<string>, snapshot: RouterSnapshot, skipped: readonly { what: string, reason: string }[], overrides: readonly string[]): void {
  const current = new Set<string>()
  const say = (key: string, write: () => void): void => {
    current.add(key)
    if (!reported.has(key)) write()
  }
  for (const file of snapshot.files) {
    if (file.errors.length === 0) continue
    say(`file ${file.file} ${file.errors.join('|')}`, () => {
      log.error({ file: file.file, errors: file.errors, keptLastGood: file.stale }, `${file.file} rejected${file.stale ? '; its last good version stays in force' : ''}: ${file.errors.join('; ')}`)
    })
  }
  for (const s of skipped) say(`skip ${s.what} ${s.reason}`, () => log.warn({ what: s.what, reason: s.reason }, `not routed: ${s.what}: ${s.reason}`))
  for (const prefix of overrides) say(`override ${prefix}`, () => log.info({ prefix }, `a route file overrides the discovered route ${prefix}`))
  reported.clear()
  for (const key of current) reported.add(key)
}

/** A rescan, with the route changes its swaps published (a watcher's rescan running at the same time shares them). */
export async function rescanCollecting (store: RouteStore, discovery: SnapshotFeed): Promise<RescanResult> {
  const changes: RouteChange[] = []
  const onSwap = (swap: { changes: readonly RouteChange[] }): void => { changes.push(...swap.changes) }
  store.on('swap', onSwap)
  try {
    await discovery.rescan()
  } finally {
    store.off('swap', onSwap)
  }
  return { changes, failure: discovery.failure?.message ?? null }
}

/** What one rescan did (issue #12: SIGHUP logs it). */
export interface RescanResult {
  /** Route changes published while it ran, in prefix order per swap. */
  readonly changes: readonly RouteChange[]
  /** Why it failed (the last good table stays in force), or null. */
  readonly failure: string | null
}


export interface RouteControlOptions {
  readonly socketDir: string
  readonly servicesDir: string | null
  readonly log: Logger
  /** Test seam: how each rescan reads the disk (issue #10). */
  readonly readSnapshot?: SnapshotReader
  /** Where snapshots come from when not the disk: a worker's RemoteSnapshotSource (issue #14). */
  readonly feed?: SnapshotFeed
  /** Active health checks; null: no prober here (a worker: the primary probes). */
  readonly probes: { readonly path?: string, readonly intervalMs?: number, readonly timeoutMs?: number } | null
  /** False in a worker: the primary logs route changes and rejected files, once for the router. */
  readonly logChanges: boolean
  /** Called after each swap with the new table, before the next snapshot (pools follow it). */
  readonly onTable?: (table: RouteTable) => void
}

export interface RouteControl {
  readonly store: RouteStore
  readonly health: RouteHealth
  readonly prober: HealthProber | null
  readonly discovery: SnapshotFeed
  skipped (): readonly Skipped[]
  configErrors (): string[]
  rescan (): Promise<RescanResult>
}

/** Wires the feed to the table and the store; `discovery.start()` is the caller's, when it is ready to route. */
export function createRouteControl (options: RouteControlOptions): RouteControl {
  const log = options.log
  const store = new RouteStore()
  const health = new RouteHealth()
  const prober = options.probes === null
    ? null
    : new HealthProber(health, {
      path: options.probes.path ?? ROUTER_DEFAULTS.healthPath,
      intervalMs: options.probes.intervalMs ?? ROUTER_DEFAULTS.healthIntervalMs,
      timeoutMs: options.probes.timeoutMs ?? ROUTER_DEFAULTS.healthTimeoutMs
    })
  store.on('swap', ({ current, changes }) => {
    // The change first: a route added without its socket is "added", then "unreachable", in that order.
    if (options.logChanges) {
      for (const change of changes) {
        log.info({ prefix: change.route.prefix, ...routeLogFields(change.route), change: change.kind }, describeChange(change))
      }
    }
    options.onTable?.(current)
    health.sync(current)
    prober?.sync(current)
  })
  const discovery = options.feed ?? new SnapshotSource({ socketDir: options.socketDir, servicesDir: options.servicesDir, log, readSnapshot: options.readSnapshot })
  const reported = new Set<string>()
  let skipped: readonly Skipped[] = []
  // A throw here fails that rescan only: SnapshotSource logs it, keeps the
  // last good table in force, shows it in health and retries (issue #10).
  discovery.on('snapshot', (snapshot) => {
    const built = buildRouteTable(snapshot)
    if (options.logChanges) reportOnce(log, reported, snapshot, built.skipped, built.overrides)
    skipped = built.skipped
    store.swap(built.table)
  })
  return {
    store,
    health,
    prober,
    discovery,
    skipped: () => skipped,
    configErrors: () => (discovery.last?.files ?? []).flatMap((f) => f.errors),
    rescan: () => rescanCollecting(store, discovery)
  }
}
