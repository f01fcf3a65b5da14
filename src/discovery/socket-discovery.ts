import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import type { SocketSnapshot } from '../routing/route-types.js'
import { sameSnapshot, scanSockets } from './scan-sockets.js'
import { watchDirectory, type DirectoryWatch } from './watch-directory.js'

/**
 * Watches the socket directory and emits a full snapshot whenever what is in
 * it changes. Scans never overlap: a change during a scan marks the state
 * dirty and one more scan follows, so bursts of events cost at most two scans
 * and the last snapshot always reflects the disk.
 */
export class SocketDiscovery extends EventEmitter<{ snapshot: [SocketSnapshot] }> {
  readonly #dir: string
  readonly #log: Logger
  #watch: DirectoryWatch | null = null
  #last: SocketSnapshot | null = null
  #scanning: Promise<void> | null = null
  #dirty = false
  #closed = false

  constructor (dir: string, log: Logger) {
    super()
    this.#dir = dir
    this.#log = log
  }

  get last (): SocketSnapshot | null {
    return this.#last
  }

  /** Starts watching, then scans once, so no change between the two is lost. */
  async start (): Promise<SocketSnapshot> {
    this.#watch = await watchDirectory(this.#dir, 1, () => this.rescan(), (err) => {
      this.#log.warn({ err }, 'socket directory watch error')
    })
    await this.rescan()
    return this.#last as SocketSnapshot
  }

  /** Forces a full rescan (file events, SIGHUP). Resolves when the disk state has been published. */
  rescan (): Promise<void> {
    if (this.#scanning !== null) {
      this.#dirty = true
      return this.#scanning
    }
    this.#scanning = this.#scanUntilClean().finally(() => { this.#scanning = null })
    return this.#scanning
  }

  async #scanUntilClean (): Promise<void> {
    do {
      this.#dirty = false
      const snapshot = await scanSockets(this.#dir, (relativePath, reason) => {
        this.#log.debug({ socket: relativePath, reason }, 'ignored entry in socket directory')
      })
      if (this.#closed) return
      if (this.#last !== null && sameSnapshot(this.#last, snapshot)) continue
      this.#last = snapshot
      this.emit('snapshot', snapshot)
    } while (this.#dirty)
  }

  async close (): Promise<void> {
    this.#closed = true
    await this.#watch?.close()
    await this.#scanning
  }
}
