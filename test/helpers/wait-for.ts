import { once, type EventEmitter } from 'node:events'

/**
 * Tests wait for events, never for time (issue #10, item 12). A deadline only
 * turns a hang into a failure; it is generous on purpose, so a loaded machine
 * cannot make a correct router fail. How fast something happens is the
 * bench's business.
 */
export const DEADLINE_MS = 10_000

/** `promise`, or a rejection naming `what` once `timeoutMs` have passed. */
export function withTimeout<T> (promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs) })
  ]).finally(() => clearTimeout(timer))
}

/** The arguments of the next `event` on `emitter`, with a deadline. */
export function onceWithin (emitter: EventEmitter, event: string, what: string, timeoutMs = DEADLINE_MS): Promise<unknown[]> {
  return withTimeout(once(emitter, event), timeoutMs, what)
}
