import { dirname, resolve } from 'node:path'
import type { Server as TlsServer } from 'node:tls'
import type { Logger } from 'pino'
import { watchDirectories, type DirectoryWatch } from '../discovery/watch-directory.js'
import { loadTlsCredentials, type TlsCredentials, type TlsFiles } from './tls-credentials.js'

/**
 * A certificate and its key are usually replaced one after the other (certbot
 * renews both, an operator copies two files): one reload shortly after the
 * last change sees both, instead of a mismatched pair in between.
 */
const SETTLE_MS = 150

/**
 * Keeps every TLS listener on the current certificate (issue #13). Reloads on
 * SIGHUP (`reload()`) and when anything changes in the directories of the
 * two files: a rename over a file, certbot's re-pointed symlinks in
 * live/NAME/, and a Kubernetes secret's `..data` symlink swap, where the
 * files named on the command line never change themselves. A file-change
 * reload that finds both files as they were does nothing.
 * `setSecureContext` only affects handshakes from then on: open connections
 * keep the certificate they were made with and are never dropped. A reload
 * that fails keeps the old certificate and logs why.
 */
export class TlsReloader {
  readonly #files: TlsFiles
  readonly #log: Logger
  readonly #servers = new Set<TlsServer>()
  #current: TlsCredentials
  #watch: DirectoryWatch | null = null
  #timer: NodeJS.Timeout | undefined
  #closed = false
  /** Reloads run one after the other, so a slow earlier one never undoes a later one. */
  #queue: Promise<unknown> = Promise.resolve()

  constructor (files: TlsFiles, first: TlsCredentials, log: Logger) {
    this.#files = files
    this.#current = first
    this.#log = log
  }

  get credentials (): TlsCredentials {
    return this.#current
  }

  /** A listener that starts with the current certificate and follows every reload. */
  add (server: TlsServer): void {
    this.#servers.add(server)
    server.once('close', () => this.#servers.delete(server))
  }

  async watch (): Promise<void> {
    const dirs = [...new Set([this.#files.certFile, this.#files.keyFile].map((p) => dirname(resolve(p))))]
    this.#watch = await watchDirectories(dirs, () => this.#schedule(), (err) => this.#log.warn({ err: { code: (err as NodeJS.ErrnoException).code } }, 'cannot watch the TLS certificate files; SIGHUP still reloads them'))
  }

  #schedule (): void {
    if (this.#closed) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => { void this.#enqueue('file change', true) }, SETTLE_MS)
  }

  /** Loads the files again; true if the listeners now use them. Never rejects. */
  reload (reason: string): Promise<boolean> {
    return this.#enqueue(reason, false)
  }

  #enqueue (reason: string, onlyIfChanged: boolean): Promise<boolean> {
    const done = this.#queue.then(() => this.#load(reason, onlyIfChanged))
    this.#queue = done
    return done
  }

  async #load (reason: string, onlyIfChanged: boolean): Promise<boolean> {
    let next: TlsCredentials
    try {
      next = await loadTlsCredentials(this.#files)
    } catch (err) {
      this.#log.error({ cert: this.#files.certFile, reason }, `TLS certificate not reloaded (${reason}), the old one stays in use: ${(err as Error).message}`)
      return false
    }
    if (this.#closed) return false
    if (onlyIfChanged && sameFiles(next, this.#current)) {
      this.#log.debug({ cert: this.#files.certFile, reason }, 'TLS certificate files unchanged, nothing to reload')
      return false
    }
    try {
      for (const server of this.#servers) server.setSecureContext(next.context)
    } catch (err) {
      // loadTlsCredentials built this context once already; should Node still refuse it, the listeners keep theirs.
      for (const server of this.#servers) server.setSecureContext(this.#current.context)
      this.#log.error({ cert: this.#files.certFile, reason }, `TLS certificate not reloaded (${reason}), the old one stays in use: ${(err as Error).message}`)
      return false
    }
    this.#current = next
    this.#log.info({ cert: this.#files.certFile, subject: next.subject, validTo: next.validTo, reason }, `TLS certificate reloaded (${reason})`)
    if (next.expired) warnExpired(this.#log, this.#files, next)
    return true
  }

  async close (): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    await this.#watch?.close()
  }
}

function sameFiles (a: TlsCredentials, b: TlsCredentials): boolean {
  return a.context.cert === b.context.cert && a.context.key === b.context.key
}

/** An expired or not-yet-valid certificate still serves (a client may choose to accept it), but the operator hears of it. */
export function warnExpired (log: Logger, files: TlsFiles, credentials: TlsCredentials): void {
  const when = Date.parse(credentials.validTo) < Date.now() ? `it expired ${credentials.validTo}` : `it is valid from ${credentials.validFrom}`
  log.warn({ cert: files.certFile, validFrom: credentials.validFrom, validTo: credentials.validTo }, `the TLS certificate ${files.certFile} is not valid now (${when}): clients will refuse it`)
}
