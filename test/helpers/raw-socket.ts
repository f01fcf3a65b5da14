import { connect, type Socket } from 'node:net'

export interface RawClient {
  readonly socket: Socket
  /** Everything received so far, as latin1. */
  received (): string
  /** Resolves with everything received once the router closes the connection; rejects after `timeoutMs`. */
  closed (timeoutMs: number): Promise<string>
  /** Resolves once the received bytes match `pattern`; rejects after `timeoutMs`. */
  waitFor (pattern: RegExp, timeoutMs: number): Promise<string>
}

/** A raw TCP client to the router, from `localAddress` (any of 127.0.0.0/8 works on Linux loopback). */
export async function openRawClient (port: number, localAddress = '127.0.0.1'): Promise<RawClient> {
  const socket = connect({ port, host: '127.0.0.1', localAddress })
  const chunks: Buffer[] = []
  let ended = false
  const waiters = new Set<() => void>()
  const wake = (): void => { for (const w of waiters) w() }
  socket.on('data', (c: Buffer) => { chunks.push(c); wake() })
  socket.on('error', () => {})
  socket.on('close', () => { ended = true; wake() })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const received = (): string => Buffer.concat(chunks).toString('latin1')
  const until = (done: () => boolean, timeoutMs: number, what: string): Promise<string> => new Promise((resolve, reject) => {
    const check = (): void => {
      if (!done()) return
      clearTimeout(timer)
      waiters.delete(check)
      resolve(received())
    }
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`${what} within ${timeoutMs} ms; got ${JSON.stringify(received())}`)) }, timeoutMs)
    waiters.add(check)
    check()
  })
  return {
    socket,
    received,
    closed: (timeoutMs) => until(() => ended, timeoutMs, 'no close'),
    waitFor: (pattern, timeoutMs) => until(() => pattern.test(received()) || ended, timeoutMs, `no ${String(pattern)}`)
  }
}

/** Polls `predicate` every 10 ms until it holds; rejects after `timeoutMs`. For state with no event of its own. */
export async function eventually (predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
