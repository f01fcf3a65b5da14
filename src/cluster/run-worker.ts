import cluster from 'node:cluster'
import type { Logger } from 'pino'
import { formatListenAddress } from '../listen/listen-address.js'
import { startRouter, StartupError, type RouterOptions, type RunningRouter } from '../start-router.js'
import { ClusterChannel, type ChannelPort } from './cluster-channel.js'
import { CLUSTER, WORKER_ARGV_ENV, type ReadyMessage } from './cluster-messages.js'

/**
 * Node sets a worker up while it starts, when process.argv[1] names a
 * script; the single binary's start from its snapshot may leave it undone
 * (issue #14), so it is done here, the way Node does it.
 */
function ensureClusterWorker (): number {
  const setup = cluster as unknown as { _setupWorker?: () => void }
  if (cluster.worker == null && process.env.NODE_UNIQUE_ID !== undefined && typeof setup._setupWorker === 'function') {
    setup._setupWorker()
    delete process.env.NODE_UNIQUE_ID
  }
  const id = cluster.worker?.id
  if (id === undefined) throw new StartupError('workers', `${WORKER_ARGV_ENV} is set, but this process is not a cluster worker`)
  return id
}

/** What main would print for a start-up failure, as the primary prints it once for all workers. */
function failureLine (err: unknown): string {
  return typeof (err as { code?: unknown }).code === 'string' ? (err as Error).message : `failed to start: ${(err as Error).message}`
}

/**
 * One worker of `--workers N` (issue #14): startRouter fed by the primary,
 * listeners shared through node:cluster. The primary owns the signals: it
 * says when to drain and when to read the TLS certificate again. A SIGTERM
 * or SIGINT sent to the worker itself (systemd's KillMode=control-group, a
 * terminal's Ctrl-C to the whole process group) drains it the same way; a
 * SIGHUP is the primary's to act on. Resolves with the exit code.
 */
export async function runWorker (options: Omit<RouterOptions, 'logger' | 'cluster'>, baseLog: Logger): Promise<number> {
  const id = ensureClusterWorker()
  const log = baseLog.child({ worker: id })
  const channel = new ClusterChannel(process as unknown as ChannelPort)
  process.on('SIGHUP', () => { log.debug('SIGHUP is for the primary') })
  let router: RunningRouter
  try {
    router = await startRouter({ ...options, inheritedFds: [], logger: log, cluster: { id, channel } })
  } catch (err) {
    await new Promise<void>((resolve) => channel.emit(CLUSTER.failed, { message: failureLine(err) }, resolve))
    channel.close()
    return 1
  }
  channel.emit(CLUSTER.ready, { addresses: router.listeners.map((l) => formatListenAddress(l.address)) } satisfies ReadyMessage)
  channel.on(CLUSTER.reloadTls, () => { void router.reloadTls('SIGHUP') })
  return await new Promise<number>((resolveExit) => {
    let stopping = false
    const stop = (why: string): void => {
      if (stopping) return
      stopping = true
      log.info({ why }, 'worker draining')
      router.close()
        .then(() => {
          log.info('worker stopped')
          channel.close()
          resolveExit(0)
        }, (err: unknown) => {
          log.error({ err }, 'worker shutdown failed')
          resolveExit(1)
        })
    }
    channel.on(CLUSTER.shutdown, () => stop('primary'))
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
  })
}
