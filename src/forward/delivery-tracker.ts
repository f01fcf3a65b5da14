import { subscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'

/**
 * What one attempt of an upstream request put on the wire (issue #10,
 * "requests sent twice" and "502s when a backend closes keep-alive
 * connections"). `firstWrite` is the outcome of the first write syscall that
 * carried bytes of this request: `none` until undici writes, `ok` once the
 * kernel took them, `failed` when that write failed on the spot (EPIPE on a
 * socket whose backend had already closed). A write that fails synchronously
 * puts no byte on the wire, and Node's socket is errored by it, so nothing
 * written after it leaves either.
 */
export interface AttemptDelivery {
  /** Set once undici has picked a connection and is about to write the request head on it. */
  bound: boolean
  firstWrite: 'none' | 'ok' | 'failed'
}

const ATTEMPT: unique symbol = Symbol('sockrouter.attempt')
const TRACKED: unique symbol = Symbol('sockrouter.tracked')

interface TrackedSocket extends Socket {
  [ATTEMPT]?: AttemptDelivery
  [TRACKED]?: true
}

/**
 * undici calls the handler's onRequestStart and then, in the same
 * synchronous step of writeH1, publishes `undici:client:sendHeaders` with the
 * socket it is about to write to. Nothing can run between the two, so the
 * attempt announced here is the one the next publication belongs to.
 */
let announced: AttemptDelivery | null = null

export function announceAttempt (attempt: AttemptDelivery): void {
  announced = attempt
}

subscribe('undici:client:sendHeaders', (message) => {
  const socket = (message as { socket?: TrackedSocket }).socket
  const attempt = announced
  announced = null
  if (attempt === null || socket?.[TRACKED] !== true) return
  attempt.bound = true
  socket[ATTEMPT] = attempt
})

function settleFirstWrite (socket: TrackedSocket): void {
  // Inside cork() a write only buffers; the syscall happens at uncork().
  if (socket.writableCorked > 0) return
  const attempt = socket[ATTEMPT]
  if (attempt === undefined || attempt.firstWrite !== 'none') return
  // Node sets `errored` synchronously when the write syscall fails at once;
  // a write that was only queued counts as sent, which errs on the safe side.
  attempt.firstWrite = socket.errored === null ? 'ok' : 'failed'
}

/** Makes a socket from the pool's connector report the first write of each attempt. */
export function trackDelivery (socket: Socket): void {
  const tracked = socket as TrackedSocket
  if (tracked[TRACKED] === true) return
  tracked[TRACKED] = true
  const write = socket.write
  const uncork = socket.uncork
  socket.write = function (this: TrackedSocket, ...args: unknown[]): boolean {
    const ok = (write as (...a: unknown[]) => boolean).apply(this, args)
    settleFirstWrite(this)
    return ok
  } as Socket['write']
  socket.uncork = function (this: TrackedSocket): void {
    uncork.call(this)
    settleFirstWrite(this)
  }
}

/** True only when the attempt provably put no byte of the request on the wire. */
export function neverSent (attempt: AttemptDelivery | null): boolean {
  return attempt !== null && attempt.bound && attempt.firstWrite !== 'ok'
}
