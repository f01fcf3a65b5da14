import { readFileSync } from 'node:fs'

/**
 * Assumed when the limit cannot be read (no /proc): the lowest soft limit
 * common on Linux, so the derived cap errs low rather than running out of fds.
 */
const FALLBACK_FD_LIMIT = 1024

/** An "unlimited" soft limit still hits the kernel's per-process maximum; this keeps the cap finite. */
const UNLIMITED_FD_LIMIT = 1_048_576

/**
 * The process's soft RLIMIT_NOFILE, from /proc/self/limits (Linux). Node has
 * already raised its soft limit to the hard one at startup, so this is what
 * the router really has. Null when it cannot be read.
 */
export function readOpenFileLimit (limitsText?: string): number | null {
  let text = limitsText
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8')
    } catch {
      return null
    }
  }
  const match = /^Max open files\s+(\S+)/m.exec(text)
  if (match === null) return null
  if (match[1] === 'unlimited') return UNLIMITED_FD_LIMIT
  const limit = Number(match[1])
  return Number.isSafeInteger(limit) && limit > 0 ? limit : null
}

/**
 * The default `--max-connections` for an fd limit (issue #10, defect 8).
 * A client connection can hold two fds (itself and its backend connection,
 * for a WebSocket tunnel or a request in flight), so the cap is half of what
 * is left after a reserve of 5% (at least 64): the listeners, the watcher,
 * the logs, idle keep-alive connections to backends, and refused connections
 * while their 503 is written. At 20,000 fds that is 9,500 connections.
 */
export function maxConnectionsFor (fdLimit: number | null): number {
  const fds = fdLimit ?? FALLBACK_FD_LIMIT
  const reserve = Math.max(64, Math.ceil(fds / 20))
  return Math.max(1, Math.floor((fds - reserve) / 2))
}
