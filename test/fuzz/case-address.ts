/**
 * The loopback address case K connects from, and the address a backend
 * learns it by. Linux routes all of 127.0.0.0/8 to lo, and the router names
 * its TCP peer in the X-Forwarded-For it sends every backend (dropping any
 * the client sent), so each request a backend gets is traced to the
 * connection it came on. The index in a canary tag can't do that: a
 * mutation rewrites it into another case's (issue #10: a bit flip turned
 * case 7814's `canary-7814-after` into `canary-7815-after`, which client
 * 7814 got back and which was charged to case 7815, whose client got a 400).
 */

/** 127.1.0.0 onwards: 127.0.0.0/16 stays for the router's listener and the fault scenarios' clients. */
const FIRST = 1 << 16
/** Up to 127.255.255.254; indices this far apart never run at once. */
const COUNT = (1 << 24) - FIRST - 1

export function caseAddress (index: number): string {
  const n = FIRST + (index % COUNT)
  return `127.${n >>> 16}.${(n >>> 8) & 0xff}.${n & 0xff}`
}

/**
 * The peer the router named in X-Forwarded-For: its last entry, the one the
 * router appends (RFC 7239 §5.2 order), or null without one.
 */
export function forwardedPeer (value: string | readonly string[] | undefined): string | null {
  const joined = Array.isArray(value) ? value.join(',') : value
  if (typeof joined !== 'string') return null
  const last = joined.split(',').pop()?.trim() ?? ''
  return last === '' ? null : last
}
