import type { Logger } from 'pino'
import type { CliOptions } from '../cli/parse-options.js'
import { readVersion } from '../config/build-info.js'
import { ROUTER_DEFAULTS } from '../config/router-defaults.js'
import type { ListenAddress } from '../listen/listen-address.js'
import { clearStaleUnixSocket } from '../listen/start-listeners.js'
import { waitForSignals } from '../lifecycle/wait-for-signals.js'
import { reloadWithLog } from '../logging/log-reload.js'
import { createRouteControl, prepareSocketDir, StartupError, type RouteControl } from '../route-control.js'
import type { ClusterChannel } from './cluster-channel.js'
import { CLUSTER, type HealthMessage, type LatestReply, type SnapshotMessage, type TunnelLeaseReply, type TunnelLeaseRequest } from './cluster-messages.js'
import { forkWorker, prepareWorkers } from './fork-worker.js'
import { TunnelLeaseBook } from './tunnel-lease-book.js'
import { WorkerSet } from './worker-set.js'

export interface PrimaryOptions {
  readonly options: CliOptions
  readonly socketDir: string
  readonly servicesDir: string
  /** The CLI's argv, which each worker parses again as its own options. */
  readonly argv: readonly string[]
  readonly env: NodeJS.ProcessEnv
  readonly log: Logger
}

/** What runs in the primary, for the parts of the router that plug into it (the admin surface's aggregation, issue #14). */
export interface RunningPrimary {
  readonly workers: WorkerSet
  readonly control: RouteControl
  readonly leases: TunnelLeaseBook
  readonly log: Logger
}

/** systemd passes its listening sockets to one process (issue #11); the workers could not share them. */
function refuseSocketActivation (env: NodeJS.ProcessEnv, workers: number): void {
  if (env.LISTEN_FDS === undefined || env.LISTEN_PID !== String(process.pid)) return
  throw new StartupError('workers', `--workers ${workers} cannot serve sockets passed by systemd (LISTEN_FDS): run with --workers 1 under sockrouter.socket, or let sockrouter bind --listen itself`)
}

/** Before any worker listens: a second worker would find the first one's socket live (issue #14). */
async function clearStaleSockets (addresses: readonly ListenAddress[]): Promise<void> {
  for (const address of addresses) if (address.kind === 'unix') await clearStaleUnixSocket(address)
}

function healthRecords (control: RouteControl): HealthMessage[] {
  return control.store.current.routes.map((route) => {
    const record = control.health.get(route.prefix)
    return { prefix: route.prefix, state: record.state, cause: record.cause }
  })
}

/** Everything a worker may ask the primary, answered per worker. */
function serveWorker (id: number, channel: ClusterChannel, primary: RunningPrimary, latest: () => SnapshotMessage): void {
  channel.handle(CLUSTER.latest, (): LatestReply => ({ latest: latest(), failure: primary.control.discovery.failure, health: healthRecords(primary.control) }))
  channel.handle(CLUSTER.rescan, () => primary.control.rescan())
  channel.handle(CLUSTER.lease, (claim: TunnelLeaseRequest): TunnelLeaseReply => ({ lease: primary.leases.acquire(id, claim) }))
  channel.on(CLUSTER.release, (lease: number) => { primary.leases.release(id, lease) })
}

/**
 * `--workers N` with N ≥ 2 (issue #14): the primary serves no traffic. It
 * runs the one SnapshotSource, table build (for its log lines and the
 * prober), HealthProber and the router-wide tunnel count; forks the
 * workers, which share the listeners through node:cluster; sends each new
 * snapshot and probe verdict to all of them; and owns the signals. Resolves
 * with the exit code.
 */
export async function runPrimary ({ options, socketDir, servicesDir, argv, env, log }: PrimaryOptions): Promise<number> {
  refuseSocketActivation(env, options.workers)
  await prepareSocketDir(socketDir)
  await clearStaleSockets([...options.listen, ...options.adminListen])

  const control = createRouteControl({
    socketDir,
    servicesDir,
    log,
    probes: { path: options.healthPath, intervalMs: options.healthIntervalMs, timeoutMs: ROUTER_DEFAULTS.healthTimeoutMs },
    logChanges: true
  })
  const leases = new TunnelLeaseBook({ maxTunnels: options.maxTunnels, maxTunnelsPerIp: options.maxTunnelsPerIp })
  const workers = new WorkerSet({ count: options.workers, fork: () => forkWorker(argv), log, shutdownGraceMs: options.shutdownGraceMs })
  const primary: RunningPrimary = { workers, control, leases, log }
  // The admin surface of the whole router (issue #14): a worker's metrics, state and tunnels APIs ask here, and the
  // primary asks every worker. Loaded here only: it brings prom-client, which one process loads on its first scrape.
  const { PrimaryObservability } = await import('./cluster-observability.js')
  const observability = new PrimaryObservability({
    workers: () => [...workers.channels()].map(([id, channel]) => ({ id: String(id), channel })),
    state: { store: control.store, health: control.health, startedAt: Date.now(), version: readVersion(), configErrors: () => control.configErrors(), rescanFailure: () => control.discovery.failure, skipped: () => control.skipped() }
  })
  workers.onWorkerChannel((_id, channel) => { observability.attach(channel) })

  let seq = 0
  let current: SnapshotMessage | null = null
  // After the table build (createRouteControl's listener runs first): a snapshot that cannot be built is not sent.
  control.discovery.on('snapshot', (snapshot) => {
    current = { seq: ++seq, snapshot }
    workers.broadcast(CLUSTER.snapshot, current)
  })
  control.discovery.on('failure', (failure) => { workers.broadcast(CLUSTER.failure, failure) })
  control.health.on('change', (prefix, record) => {
    const level = record.state === 'healthy' ? 'info' : record.state === 'unknown' ? 'debug' : 'warn'
    log[level]({ prefix, health: record.state, cause: record.cause }, `route ${prefix} is ${record.state}${record.cause === null ? '' : `: ${record.cause}`}`)
    workers.broadcast(CLUSTER.health, { prefix, state: record.state, cause: record.cause } satisfies HealthMessage)
  })
  workers.onWorkerChannel((id, channel) => { serveWorker(id, channel, primary, () => current as SnapshotMessage) })
  // A worker's tunnels died with it.
  workers.onWorkerGone((id) => { leases.releaseWorker(id) })

  try {
    await control.discovery.start()
    prepareWorkers()
    await workers.start()
  } catch (err) {
    control.prober?.close()
    await control.discovery.close()
    throw err
  }
  log.info({ socketDir, servicesDir, routes: control.store.current.routes.length, workers: options.workers, pids: workers.pids() }, 'sockrouter ready')
  return await waitForPrimarySignals(primary)
}

function waitForPrimarySignals ({ workers, control, log }: RunningPrimary): Promise<number> {
  return waitForSignals({
    log,
    stopping: { message: 'shutting down: every worker drains', fields: { workers: workers.pids() } },
    stop: async () => {
      control.prober?.close()
      await workers.stop()
      await control.discovery.close()
    },
    forceStop: () => { workers.kill() },
    reload: () => {
      log.info('SIGHUP: rescanning the socket directory, reloading services.d and, in every worker, any TLS certificate')
      void reloadWithLog(() => control.rescan(), log, 'SIGHUP')
      workers.broadcast(CLUSTER.reloadTls, null)
    }
  })
}
