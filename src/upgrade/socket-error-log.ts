import type { Logger } from 'pino'

type ErrorListener = (err: NodeJS.ErrnoException) => void

const listeners = new WeakMap<Logger, Map<string, ErrorListener>>()

/**
 * The `error` listener that logs a tunnel socket's error at debug level,
 * one per logger and message, shared by every tunnel. A listener made per
 * tunnel would keep its function's whole scope, the upgrade request and its
 * heads among it, alive for as long as the tunnel stays open (issue #14:
 * RSS per idle tunnel).
 */
export function socketErrorLog (log: Logger, message: string): ErrorListener {
  let byMessage = listeners.get(log)
  if (byMessage === undefined) {
    byMessage = new Map()
    listeners.set(log, byMessage)
  }
  let listener = byMessage.get(message)
  if (listener === undefined) {
    listener = (err) => log.debug({ err: { code: err.code } }, message)
    byMessage.set(message, listener)
  }
  return listener
}
