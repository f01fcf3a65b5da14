import { EventEmitter } from 'node:events'
import { stat } from 'node:fs/promises'
import { basename, dirname, relative, sep } from 'node:path'
import type { Logger } from 'pino'
import { ServicesDirLoader } from '../config/load-services-dir.js'
import type { RouterSnapshot } from '../routing/route-types.js'
import { readSnapshot } from './read-snapshot.js'
import type { RescanFailure, SnapshotFeed, SnapshotFeedEvents } from './snapshot-feed.js'
import { watchDirectories, type DirectoryWatch } from './watch-directory.js'

export type SnapshotReader = typeof readSnapshot

export interface SnapshotSourceOptions {
  readonly socketDir: string
  /** null: no services.d at all. */
  readonly servicesDir: string | null
  readonly log: Logger
  /** How one full scan is read; tests inject a failing one (issue #10). */
  readonly readSnapshot?: SnapshotReader
}

export type { RescanFailure } from './snapshot-feed.js'

/** A failed rescan is retried after this, doubling up to the cap, until one succeeds. */
const RETRY_FIRST_MS = 1000
const RETRY_MAX_MS = 30_000

/** The deepest directory of `path` (itself included) that exists now. */
async function nearestExisting (path: string): Promise<string> {
  let dir = path
  while ((await stat(dir).catch(() => null))?.isDirectory() !== true) {
    const up = dirname(dir)
    if (up === dir) return dir
    dir = up
  }
  return dir
}

function sameSnapshot (a: RouterSnapshot, b: RouterSnapshot): boolean {
  const key = (s: RouterSnapshot): string => JSON.stringify([
    s.sockets.dir,
    s.sockets.sockets.map((x) => [x.relativePath, x.identity]),
    s.files,
    [...s.socketStates]
  ])
  return key(a) === key(b)
}

/**
 * Produces full snapshots of everything routes come from: the socket dir,
 * the services.d files and the sockets those files name. Any filesystem event
 * under them, or `rescan()` (SIGHUP), triggers one full rescan; scans never
 * overlap, a change during a scan causes exactly one more, and a snapshot
 * equal to the last one is dropped.
 */
export class SnapshotSource extends EventEmitter<SnapshotFeedEvents> implements SnapshotFeed {
  readonly #options: SnapshotSourceOptions
  readonly #loader: ServicesDirLoader | null
  #watch: DirectoryWatch | null = null
  #watched = new Set<string>()
  /**
   * For a watched directory that stands in for a missing one (its nearest
   * existing ancestor), the child names that lead towards what we wait for.
   * Other changes there (a log file next to the socket dir, say) must not
   * trigger rescans: that cost half the router's speed in the benchmark.
   */
  #towards = new Map<string, Set<string>>()
  /** Ignored entries already logged, so each is said once while it stays. */
  #ignored = new Set<string>()
  #last: RouterSnapshot | null = null
  #scanning: Promise<void> | null = null
  #dirty = false
  #closed = false
  #closing: Promise<void> | null = null
  #failure: RescanFailure | null = null
  #retryMs = RETRY_FIRST_MS
  #retry: NodeJS.Timeout | null = null

  constructor (options: SnapshotSourceOptions) {
    super()
    this.#options = options
    this.#loader = options.servicesDir === null ? null : new ServicesDirLoader(options.servicesDir, options.socketDir)
  }

  get last (): RouterSnapshot | null {
    return this.#last
  }

  /** Null while the latest rescan succeeded. */
  get failure (): RescanFailure | null {
    return this.#failure
  }

  /**
   * Scans once and resolves as soon as that snapshot is published. The
   * watches it calls for start next, and the rescan that follows them (the
   * watch set changed, from nothing) catches whatever changed between the
   * scan and the watches, so no change is lost. The router listens
   * meanwhile: watching the socket dir first and waiting for the service
   * dirs' watches and that second scan cost two chokidar instances and two
   * scans before it could (issue #14, start-up). A failed first scan leaves
   * nothing to serve: it closes the watcher and throws, so startup fails
   * with one line instead of running empty.
   */
  async start (): Promise<RouterSnapshot> {
    const onError = (err: unknown): void => { this.#options.log.warn({ err }, 'watch error') }
    this.#watched = new Set()
    this.#watch = await watchDirectories([], (changed) => { if (this.#relevant(changed)) void this.rescan() }, onError)
    let onSnapshot = (): void => {}
    const published = new Promise<void>((resolve) => { onSnapshot = () => resolve() })
    this.once('snapshot', onSnapshot)
    try {
      await Promise.race([this.rescan(), published])
    } finally {
      this.off('snapshot', onSnapshot)
    }
    if (this.#last === null) {
      const message = this.#failure?.message ?? 'closed during the first scan'
      await this.close()
      throw Object.assign(new Error(`cannot read the socket directory and services.d: ${message}`), { code: 'first_scan' })
    }
    return this.#last
  }

  #relevant (changed: string | undefined): boolean {
    if (changed === undefined) return true
    const names = this.#towards.get(dirname(changed))
    return names === undefined || names.has(basename(changed))
  }

  /**
   * Forces a full rescan. Resolves when the disk state has been published, or
   * the scan failed. It never rejects: callers start it with `void` (watch
   * events, SIGHUP), and an unhandled rejection would end the process
   * (issue #10). A failure is logged, kept in `failure` for the health
   * endpoint, and retried; the last good snapshot stays in force.
   */
  rescan (): Promise<void> {
    if (this.#scanning !== null) {
      this.#dirty = true
      return this.#scanning
    }
    this.#scanning = this.#scanUntilClean()
      .then(() => this.#recovered(), (err: unknown) => this.#failed(err))
      .finally(() => { this.#scanning = null })
    return this.#scanning
  }

  #failed (err: unknown): void {
    const message = err instanceof Error ? err.message : String(err)
    if (this.#failure?.message !== message) {
      this.#options.log.error({ err, retryInMs: this.#retryMs }, `rescan failed; the last good route table stays in force: ${message}`)
    }
    const first = this.#failure?.message !== message
    this.#failure = { message, since: this.#failure?.since ?? new Date().toISOString() }
    if (first) this.emit('failure', this.#failure)
    if (this.#closed || this.#retry !== null) return
    this.#retry = setTimeout(() => {
      this.#retry = null
      void this.rescan()
    }, this.#retryMs)
    this.#retry.unref()
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS)
  }

  #recovered (): void {
    this.#retryMs = RETRY_FIRST_MS
    if (this.#failure === null) return
    this.#options.log.info({ failedSince: this.#failure.since }, 'rescan succeeded again')
    this.#failure = null
    this.emit('failure', null)
  }

  /**
   * Every directory is watched on its own, one level deep: the socket dir,
   * each service dir the last scan found, the services dir and the directory
   * of every socket a file names (or their nearest existing ancestor, so
   * creating them is noticed too). The set follows each scan rather than
   * chokidar's recursion. Returns true when the set changed: one more rescan
   * then catches what happened before the new watches were in place.
   */
  async #followWatchSet (snapshot: RouterSnapshot): Promise<boolean> {
    const dirs = new Set<string>([this.#options.socketDir, ...snapshot.sockets.serviceDirs])
    const whole = new Set(dirs)
    const towards = new Map<string, Set<string>>()
    const follow = async (target: string): Promise<void> => {
      const existing = await nearestExisting(target)
      dirs.add(existing)
      if (existing === target) {
        whole.add(existing)
        return
      }
      const next = relative(existing, target).split(sep)[0] as string
      towards.set(existing, (towards.get(existing) ?? new Set()).add(next))
    }
    if (this.#options.servicesDir !== null) await follow(this.#options.servicesDir)
    for (const path of snapshot.socketStates.keys()) await follow(dirname(path))
    // A directory that is also watched for itself reacts to everything.
    for (const dir of whole) towards.delete(dir)
    this.#towards = towards
    const before = this.#watched
    this.#watched = dirs
    await this.#watch?.set(dirs)
    return dirs.size !== before.size || [...dirs].some((d) => !before.has(d))
  }

  async #scanUntilClean (): Promise<void> {
    do {
      this.#dirty = false
      const ignored = new Set<string>()
      const snapshot = await (this.#options.readSnapshot ?? readSnapshot)(this.#options.socketDir, this.#loader, (relativePath, reason) => {
        ignored.add(relativePath)
        if (!this.#ignored.has(relativePath)) this.#options.log.debug({ socket: relativePath, reason }, 'ignored entry in socket directory')
      })
      this.#ignored = ignored
      if (this.#closed) return
      // Publish first: routes must not wait for new watches to be ready.
      // Listeners see the new `last`; if one throws, `last` goes back, so the
      // retry publishes this snapshot again instead of dropping it as equal.
      if (this.#last === null || !sameSnapshot(this.#last, snapshot)) {
        const previous = this.#last
        this.#last = snapshot
        try {
          this.emit('snapshot', snapshot)
        } catch (err) {
          this.#last = previous
          throw err
        }
      }
      if (!this.#closed && await this.#followWatchSet(snapshot)) this.#dirty = true
    } while (this.#dirty && !this.#closed)
  }

  close (): Promise<void> {
    this.#closed = true
    if (this.#retry !== null) clearTimeout(this.#retry)
    this.#retry = null
    return (this.#closing ??= this.#closeWatch())
  }

  async #closeWatch (): Promise<void> {
    // Let a scan in progress finish first: it may be replacing the watcher.
    await this.#scanning
    await this.#watch?.close()
  }
}
