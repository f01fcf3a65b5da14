import type { TunnelAdmin } from '../admin/admin-api-deps.js'
import type { TunnelInfo } from '../upgrade/tunnel-registry.js'
import { askEveryWorker, WORKER_REPLY_MS, type WorkerList } from './ask-every-worker.js'
import type { ClusterChannel } from './cluster-channel.js'

/** Primary → worker: that worker's open tunnels, and cutting one of them. */
const WORKER_TUNNELS = 'obs:tunnels'
const WORKER_CUT = 'obs:tunnel-cut'
/** Worker → primary: the whole router's, for the admin API a worker serves. */
const ROUTER_TUNNELS = 'obs:router-tunnels'
const ROUTER_CUT = 'obs:router-tunnel-cut'

/** In a worker: answers the primary's questions about this worker's tunnels (issue #14). */
export function serveTunnels (toPrimary: ClusterChannel, registry: TunnelAdmin): void {
  toPrimary.handle(WORKER_TUNNELS, async () => await registry.list())
  toPrimary.handle(WORKER_CUT, async ({ id }: { id: string }) => await registry.close(id))
}

/** The workers to ask about a tunnel id: the one its `<worker>-` prefix names when that worker is alive, else all. */
function holdersOf (workers: WorkerList, id: string): WorkerList {
  const dash = id.indexOf('-')
  if (dash <= 0) return workers
  const owner = id.slice(0, dash)
  const named = [...workers()].filter((w) => w.id === owner)
  return named.length === 0 ? workers : () => named
}

/** Every worker's open tunnels, oldest first as one registry lists them. */
export async function listRouterTunnels (workers: WorkerList): Promise<TunnelInfo[]> {
  const replies = await askEveryWorker<TunnelInfo[]>(workers, WORKER_TUNNELS, null)
  return replies.flatMap((r) => r.body).sort((a, b) => a.startedAt - b.startedAt)
}

/** Cuts the tunnel wherever it is; true once it is closed, false when no worker has it open. */
export async function cutRouterTunnel (workers: WorkerList, id: string): Promise<boolean> {
  const replies = await askEveryWorker<boolean>(holdersOf(workers, id), WORKER_CUT, { id }, WORKER_REPLY_MS)
  return replies.some((r) => r.body)
}

/** In the primary, on one worker's channel: that worker's admin API asks here for the whole router's tunnels. */
export function answerTunnels (toWorker: ClusterChannel, workers: WorkerList): void {
  toWorker.handle(ROUTER_TUNNELS, async () => await listRouterTunnels(workers))
  toWorker.handle(ROUTER_CUT, async ({ id }: { id: string }) => await cutRouterTunnel(workers, id))
}

/**
 * The tunnels API's view in a worker (issue #14): every worker's tunnels,
 * through the primary. A tunnel this worker holds is cut here without the
 * round trip. If the primary cannot answer (it is going away), the list is
 * this worker's own, which is still true, only partial.
 */
export class ClusterTunnels implements TunnelAdmin {
  readonly #local: TunnelAdmin
  readonly #toPrimary: ClusterChannel

  constructor (local: TunnelAdmin, toPrimary: ClusterChannel) {
    this.#local = local
    this.#toPrimary = toPrimary
  }

  async list (): Promise<readonly TunnelInfo[]> {
    try {
      return await this.#toPrimary.request<TunnelInfo[]>(ROUTER_TUNNELS, null, WORKER_REPLY_MS * 2)
    } catch {
      return await this.#local.list()
    }
  }

  async close (id: string): Promise<boolean> {
    if (await this.#local.close(id)) return true
    try {
      return await this.#toPrimary.request<boolean>(ROUTER_CUT, { id }, WORKER_REPLY_MS * 2)
    } catch {
      return false
    }
  }
}
