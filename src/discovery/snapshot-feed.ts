import type { EventEmitter } from 'node:events'
import type { RouterSnapshot } from '../routing/route-types.js'

/** Why the latest rescan failed; the last good snapshot (and table) stays in force meanwhile. */
export interface RescanFailure {
  readonly message: string
  /** ISO time of the first failure in a row. */
  readonly since: string
}

export interface SnapshotFeedEvents {
  snapshot: [RouterSnapshot]
  /** The rescan failure changed: a new one, or null once a rescan succeeded again. */
  failure: [RescanFailure | null]
}

/**
 * Where startRouter's snapshots come from: the disk itself (SnapshotSource),
 * or, in a `--workers` worker, the primary's SnapshotSource over IPC
 * (issue #14: one watcher and one scan, whatever the number of workers).
 */
export interface SnapshotFeed extends EventEmitter<SnapshotFeedEvents> {
  readonly last: RouterSnapshot | null
  readonly failure: RescanFailure | null
  /** Resolves with the first snapshot, published; throws when there is none to serve. */
  start (): Promise<RouterSnapshot>
  /** A full rescan; resolves once its snapshot is published or it failed. Never rejects. */
  rescan (): Promise<void>
  close (): Promise<void>
}
