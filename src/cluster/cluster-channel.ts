/**
 * Requests, replies and events between the primary and one worker over
 * node:cluster's IPC pipe (issue #14, `--workers`). Every message of ours
 * carries `sockrouter: 1`, so messages from others on the same pipe
 * (prom-client's cluster aggregation uses it too) are left alone.
 *
 * The pipe must use `serialization: 'advanced'` (structured clone): a
 * snapshot holds Maps, which JSON would flatten to `{}`.
 */

/** process (in a worker) or cluster.Worker (in the primary): what a channel talks through. */
export interface ChannelPort {
  send (message: unknown, sendHandle?: undefined, options?: undefined, callback?: (error: Error | null) => void): boolean
  on (event: 'message', listener: (message: unknown) => void): unknown
  off (event: 'message', listener: (message: unknown) => void): unknown
  readonly connected?: boolean
}

type Message =
  | { readonly sockrouter: 1, readonly kind: 'request', readonly id: number, readonly type: string, readonly body: unknown }
  | { readonly sockrouter: 1, readonly kind: 'reply', readonly id: number, readonly body?: unknown, readonly error?: string }
  | { readonly sockrouter: 1, readonly kind: 'event', readonly type: string, readonly body: unknown }

export type RequestHandler = (body: any) => unknown | Promise<unknown>
export type EventListener = (body: any) => void

/** A request whose other side is gone or never answered. */
export class ChannelError extends Error {
  readonly code = 'cluster_channel'
}

function isOurs (message: unknown): message is Message {
  return typeof message === 'object' && message !== null && (message as { sockrouter?: unknown }).sockrouter === 1
}

export class ClusterChannel {
  readonly #port: ChannelPort
  readonly #handlers = new Map<string, RequestHandler>()
  readonly #listeners = new Map<string, Set<EventListener>>()
  readonly #pending = new Map<number, { resolve: (body: unknown) => void, reject: (err: Error) => void, timer: NodeJS.Timeout }>()
  readonly #onMessage = (message: unknown): void => { if (isOurs(message)) this.#receive(message) }
  #nextId = 1
  #closed = false

  constructor (port: ChannelPort) {
    this.#port = port
    port.on('message', this.#onMessage)
  }

  /** Answers requests of `type`; what the handler returns (or throws) is the reply. One handler per type. */
  handle (type: string, handler: RequestHandler): this {
    this.#handlers.set(type, handler)
    return this
  }

  on (type: string, listener: EventListener): this {
    let set = this.#listeners.get(type)
    if (set === undefined) this.#listeners.set(type, set = new Set())
    set.add(listener)
    return this
  }

  off (type: string, listener: EventListener): this {
    this.#listeners.get(type)?.delete(listener)
    return this
  }

  /** Fire and forget; false when the other side is gone. `sent`: called once the message is written (or failed), for a process about to exit. */
  emit (type: string, body: unknown, sent?: () => void): boolean {
    return this.#send({ sockrouter: 1, kind: 'event', type, body }, sent)
  }

  /** Resolves with the other side's reply; rejects with ChannelError when it is gone, throws, or takes past `timeoutMs`. */
  request<T = unknown> (type: string, body: unknown, timeoutMs = 5000): Promise<T> {
    if (this.#closed) return Promise.reject(new ChannelError(`cluster channel closed (${type})`))
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new ChannelError(`no reply to ${type} within ${timeoutMs} ms`))
      }, timeoutMs)
      timer.unref()
      this.#pending.set(id, { resolve: resolve as (body: unknown) => void, reject, timer })
      if (!this.#send({ sockrouter: 1, kind: 'request', id, type, body })) this.#settle(id, undefined, `cannot send ${type}: the other side is gone`)
    })
  }

  /** Stops listening and fails every request still waiting (the worker died or is stopping). */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#port.off('message', this.#onMessage)
    for (const id of [...this.#pending.keys()]) this.#settle(id, undefined, 'cluster channel closed')
  }

  #send (message: Message, sent?: () => void): boolean {
    if (this.#closed || this.#port.connected === false) {
      sent?.()
      return false
    }
    try {
      return sent === undefined ? this.#port.send(message) : this.#port.send(message, undefined, undefined, () => sent())
    } catch {
      // ERR_IPC_CHANNEL_CLOSED: the other side exited between the check and the send.
      sent?.()
      return false
    }
  }

  #settle (id: number, body: unknown, error: string | undefined): void {
    const pending = this.#pending.get(id)
    if (pending === undefined) return
    this.#pending.delete(id)
    clearTimeout(pending.timer)
    if (error === undefined) pending.resolve(body)
    else pending.reject(new ChannelError(error))
  }

  #receive (message: Message): void {
    if (message.kind === 'reply') {
      this.#settle(message.id, message.body, message.error)
      return
    }
    if (message.kind === 'event') {
      for (const listener of this.#listeners.get(message.type) ?? []) listener(message.body)
      return
    }
    const handler = this.#handlers.get(message.type)
    const { id } = message
    if (handler === undefined) {
      this.#send({ sockrouter: 1, kind: 'reply', id, error: `no handler for ${message.type}` })
      return
    }
    Promise.resolve()
      .then(() => handler(message.body))
      .then(
        (body) => { this.#send({ sockrouter: 1, kind: 'reply', id, body }) },
        (err: unknown) => { this.#send({ sockrouter: 1, kind: 'reply', id, error: err instanceof Error ? err.message : String(err) }) }
      )
  }
}
