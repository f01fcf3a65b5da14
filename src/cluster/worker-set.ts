import type { Worker } from 'node:cluster'
import type { Logger } from 'pino'
import { ClusterChannel, type ChannelPort } from './cluster-channel.js'
import { CLUSTER, type ReadyMessage } from './cluster-messages.js'

/** A worker that lived this long before dying is replaced at once; one that died sooner waits, doubling each time. */
const STABLE_AFTER_MS = 10_000
const FIRST_RESTART_DELAY_MS = 100
const MAX_RESTART_DELAY_MS = 10_000
/** After the drain's grace, how long a worker may take to exit before it is killed. */
const EXIT_MARGIN_MS = 5000

export interface WorkerSetOptions {
  readonly count: number
  /** cluster.fork with the worker's environment; setupPrimary was called. */
  readonly fork: () => Worker
  readonly log: Logger
  /** How long a worker's drain may take (--shutdown-grace), before it is killed. */
  readonly shutdownGraceMs: number
}

interface Member {
  readonly worker: Worker
  readonly channel: ClusterChannel
  readonly startedAt: number
  /** The primary asked it to stop: its exit is no crash. */
  stopping: boolean
  ready: boolean
  /** The one line a start-up failure said (worker-failed). */
  failure: string | null
}

export type ChannelListener = (id: number, channel: ClusterChannel) => void

/**
 * The primary's workers (issue #14, `--workers`): forks them, gives each a
 * ClusterChannel, replaces one that dies unasked (logged at error with its
 * exit code or signal, after a delay that grows while replacements keep
 * dying early, so a crash loop does not spin), and drains them all on stop.
 *
 * The hooks for what the primary answers workers (and for the admin
 * surface's aggregation): `onWorkerChannel` is called for every worker's
 * channel as it is forked, the ones already running included, and
 * `onWorkerGone` when one has exited; `channels()` are the live ones.
 */
export class WorkerSet {
  readonly #options: WorkerSetOptions
  readonly #members = new Map<number, Member>()
  readonly #channelListeners = new Set<ChannelListener>()
  readonly #goneListeners = new Set<(id: number) => void>()
  #stopping = false
  #started = false
  #restartDelayMs = FIRST_RESTART_DELAY_MS
  #restartTimer: NodeJS.Timeout | null = null
  #restartDueAt = 0
  #onStartFailure: ((message: string) => void) | null = null
  #onAllReady: (() => void) | null = null

  constructor (options: WorkerSetOptions) {
    this.#options = options
  }

  /** Live workers' channels, by worker id. */
  channels (): ReadonlyMap<number, ClusterChannel> {
    return new Map([...this.#members].map(([id, m]) => [id, m.channel]))
  }

  /** Worker ids and their pids, for logs and the admin surface. */
  pids (): Record<number, number | undefined> {
    return Object.fromEntries([...this.#members].map(([id, m]) => [id, m.worker.process.pid]))
  }

  /** Calls `listener` for every worker's channel, now and as workers are forked; returns the unsubscribe. */
  onWorkerChannel (listener: ChannelListener): () => void {
    this.#channelListeners.add(listener)
    for (const [id, member] of this.#members) listener(id, member.channel)
    return () => { this.#channelListeners.delete(listener) }
  }

  /** Calls `listener` with the id of each worker that exited (asked or not). */
  onWorkerGone (listener: (id: number) => void): () => void {
    this.#goneListeners.add(listener)
    return () => { this.#goneListeners.delete(listener) }
  }

  /** An event to every live worker. */
  broadcast (type: string, body: unknown): void {
    for (const member of this.#members.values()) member.channel.emit(type, body)
  }

  /**
   * Forks `count` workers; resolves once every one listens. Rejects with the
   * first start-up failure's line (the others are stopped): a worker that
   * cannot start would not start any better when replaced.
   */
  start (): Promise<void> {
    const started = new Promise<void>((resolve, reject) => {
      this.#onAllReady = resolve
      this.#onStartFailure = (message) => { reject(Object.assign(new Error(message), { code: 'worker_start' })) }
    })
    for (let i = 0; i < this.#options.count; i++) this.#fork()
    return started.then(() => { this.#started = true })
  }

  #fork (): Member {
    const worker = this.#options.fork()
    const channel = new ClusterChannel(worker as unknown as ChannelPort)
    const member: Member = { worker, channel, startedAt: Date.now(), stopping: false, ready: false, failure: null }
    this.#members.set(worker.id, member)
    // An IPC pipe error (EPIPE as a worker dies) must not end the primary; the exit event follows.
    worker.on('error', (err: NodeJS.ErrnoException) => { this.#options.log.debug({ worker: worker.id, err: { code: err.code } }, 'worker channel error') })
    channel.on(CLUSTER.ready, (ready: ReadyMessage) => { this.#ready(member, ready) })
    channel.on(CLUSTER.failed, (failure: { message: string }) => { member.failure = failure.message })
    worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) => { this.#exited(member, code, signal) })
    for (const listener of this.#channelListeners) listener(worker.id, channel)
    return member
  }

  #ready (member: Member, ready: ReadyMessage): void {
    member.ready = true
    const id = member.worker.id
    if (this.#started) {
      this.#options.log.info({ worker: id, pid: member.worker.process.pid, addresses: ready.addresses }, `replacement worker ${id} is serving`)
      return
    }
    this.#options.log.debug({ worker: id, pid: member.worker.process.pid, addresses: ready.addresses }, `worker ${id} is serving`)
    if ([...this.#members.values()].every((m) => m.ready) && this.#members.size === this.#options.count) this.#onAllReady?.()
  }

  #exited (member: Member, code: number | null, signal: NodeJS.Signals | null): void {
    const id = member.worker.id
    member.channel.close()
    this.#members.delete(id)
    for (const listener of this.#goneListeners) listener(id)
    if (member.stopping || this.#stopping) return
    if (!this.#started) {
      // Start-up: one line, the worker's own if it said one, and the whole router fails (exit 1).
      this.#stopping = true
      for (const other of this.#members.values()) this.#stop(other)
      this.#onStartFailure?.(member.failure ?? `worker ${id} exited during start-up (${signal ?? `code ${String(code)}`})`)
      return
    }
    const lived = Date.now() - member.startedAt
    if (lived >= STABLE_AFTER_MS) this.#restartDelayMs = FIRST_RESTART_DELAY_MS
    const wantedMs = lived >= STABLE_AFTER_MS ? 0 : this.#restartDelayMs
    if (lived < STABLE_AFTER_MS) this.#restartDelayMs = Math.min(this.#restartDelayMs * 2, MAX_RESTART_DELAY_MS)
    const delayMs = this.#scheduleReplacement(wantedMs)
    const cause = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`
    this.#options.log.error({ worker: id, pid: member.worker.process.pid, code, signal, restartInMs: delayMs }, `worker ${id} died (${cause}); the others keep serving, a replacement starts${delayMs > 0 ? ` in ${delayMs} ms` : ''}`)
  }

  /**
   * One timer for any number of replacements due: each run forks what is
   * missing, at the earliest time any of them is due. Returns the ms until
   * it fires, which is what the death's log line says (issue #14: two
   * workers that die together are replaced together).
   */
  #scheduleReplacement (delayMs: number): number {
    const now = Date.now()
    if (this.#restartTimer !== null) {
      const leftMs = Math.max(0, this.#restartDueAt - now)
      if (leftMs <= delayMs) return leftMs
      clearTimeout(this.#restartTimer)
    }
    this.#restartDueAt = now + delayMs
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null
      if (this.#stopping) return
      while (this.#members.size < this.#options.count) {
        const member = this.#fork()
        this.#options.log.info({ worker: member.worker.id, pid: member.worker.process.pid }, `worker ${member.worker.id} started to replace a dead one`)
      }
    }, delayMs)
    return delayMs
  }

  #stop (member: Member): void {
    member.stopping = true
    // One still starting may not listen on its channel yet; SIGTERM drains it the same way (or ends it before it serves).
    if (member.ready) member.channel.emit(CLUSTER.shutdown, null)
    else member.worker.process.kill('SIGTERM')
  }

  /** Every worker drains (the same grace as one process), then exits; resolves once all did. A worker that hangs is killed. */
  async stop (): Promise<void> {
    this.#stopping = true
    if (this.#restartTimer !== null) clearTimeout(this.#restartTimer)
    this.#restartTimer = null
    const exits = [...this.#members.values()].map((member) => new Promise<void>((resolve) => {
      if (member.worker.isDead()) {
        resolve()
        return
      }
      member.worker.once('exit', () => resolve())
      const timer = setTimeout(() => {
        this.#options.log.warn({ worker: member.worker.id }, `worker ${member.worker.id} did not exit after the grace period: killing it`)
        member.worker.process.kill('SIGKILL')
      }, this.#options.shutdownGraceMs + EXIT_MARGIN_MS)
      timer.unref()
      member.worker.once('exit', () => clearTimeout(timer))
      this.#stop(member)
    }))
    await Promise.all(exits)
  }

  /** The second signal: no more waiting. */
  kill (): void {
    this.#stopping = true
    for (const member of this.#members.values()) member.worker.process.kill('SIGKILL')
  }
}
