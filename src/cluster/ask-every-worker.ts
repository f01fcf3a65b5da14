import type { ClusterChannel } from './cluster-channel.js'

/** One worker as the primary sees it: the id its log lines, tunnel ids and metric label carry, and its channel. */
export interface WorkerChannel {
  readonly id: string
  readonly channel: ClusterChannel
}

/** The workers alive now; read at each question, so a replaced worker is asked and a dead one is not. */
export type WorkerList = () => Iterable<WorkerChannel>

/** How long the primary waits for one worker's part of a router-wide answer (issue #14). */
export const WORKER_REPLY_MS = 2000

export interface WorkerReply<T> {
  readonly id: string
  readonly body: T
}

/**
 * Asks every worker the same question at once and keeps the replies that
 * came. A worker that died, is still starting or took longer than
 * `timeoutMs` is left out: the dashboard shows the rest of the router
 * rather than nothing (issue #14).
 */
export async function askEveryWorker<T> (workers: WorkerList, type: string, body: unknown, timeoutMs = WORKER_REPLY_MS): Promise<WorkerReply<T>[]> {
  const asked = [...workers()].map(async ({ id, channel }): Promise<WorkerReply<T> | null> => {
    try {
      return { id, body: await channel.request<T>(type, body, timeoutMs) }
    } catch {
      return null
    }
  })
  return (await Promise.all(asked)).filter((r): r is WorkerReply<T> => r !== null)
}
