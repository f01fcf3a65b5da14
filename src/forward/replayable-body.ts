import { Readable } from 'node:stream'

/** A retry replays at most this much of a request body; past it, the request is never retried. */
const MAX_REPLAY_BYTES = 64 * 1024

/**
 * Hands a client's request body to undici one attempt at a time (issue #10).
 * undici destroys the body stream of an attempt that fails, and destroying
 * the client's IncomingMessage would cut the client off. So each attempt
 * gets its own stream that reads from the source, and a failed attempt only
 * detaches from it. The chunks an attempt took are kept (up to 64 KiB) so
 * that a retry can send them again, byte for byte.
 */
export class ReplayableBody {
  readonly #source: Readable
  readonly #taken: Buffer[] = []
  #takenBytes = 0
  #overflowed = false

  constructor (source: Readable) {
    this.#source = source
  }

  /** False once more was read than a retry could replay, or the client's body broke off. */
  get replayable (): boolean {
    // A fully read source is destroyed too (autoDestroy), and its chunks are all kept.
    return !this.#overflowed && this.#source.errored === null && !this.#source.readableAborted
  }

  /** Stops keeping chunks: the request reached the backend, or got its answer. */
  release (): void {
    this.#overflowed = true
    this.#taken.length = 0
  }

  /** A fresh stream for one attempt: what earlier attempts took, then the rest of the source. */
  attempt (): Readable {
    const source = this.#source
    const replay = this.#taken.slice()
    const keep = (chunk: Buffer): void => {
      if (this.#overflowed) return
      this.#takenBytes += chunk.length
      if (this.#takenBytes > MAX_REPLAY_BYTES) this.release()
      else this.#taken.push(chunk)
    }
    const pump = (): void => {
      while (replay.length > 0) {
        if (!out.push(replay.shift())) return
      }
      let chunk: Buffer | null
      while ((chunk = source.read() as Buffer | null) !== null) {
        keep(chunk)
        if (!out.push(chunk)) return
      }
      if (source.readableEnded) out.push(null)
    }
    const onEnd = (): void => { if (replay.length === 0) out.push(null) }
    const onError = (err: Error): void => { out.destroy(err) }
    const detach = (): void => {
      source.off('readable', pump)
      source.off('end', onEnd)
      source.off('error', onError)
    }
    const out = new Readable({
      read: pump,
      destroy (err, callback) {
        detach()
        callback(err)
      }
    })
    source.on('readable', pump)
    source.once('end', onEnd)
    source.once('error', onError)
    out.once('end', detach)
    return out
  }
}
