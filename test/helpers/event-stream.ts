import { request, type IncomingMessage } from 'node:http'
import type { LiveState } from '../../src/admin/live-state.js'
import { DEADLINE_MS } from './wait-for.js'

export interface EventStream {
  readonly response: IncomingMessage
  /** Every state received so far, oldest first. */
  readonly states: LiveState[]
  /** The first state, past or future, after the `after`-th one, that satisfies `predicate`. */
  next (predicate: (state: LiveState) => boolean, what: string, after?: number, timeoutMs?: number): Promise<LiveState>
  /** Resolves when the router ends the stream. */
  readonly ended: Promise<void>
  close (): void
}

interface Teardown { teardown (fn: () => unknown): void }

/**
 * A real node:http reader of GET /_sockrouter/events (issue #12): parses the
 * `event: state` blocks of the text/event-stream as they arrive.
 */
export function openEventStream (t: Teardown, url: string, options: { socketPath?: string } = {}): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, socketPath: options.socketPath, headers: { accept: 'text/event-stream' } }, (response) => {
      const states: LiveState[] = []
      const waiters = new Set<() => void>()
      let buffer = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        buffer += chunk
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const lines = block.split('\n')
          if (!lines.includes('event: state')) continue
          const data = lines.find((l) => l.startsWith('data: '))
          if (data !== undefined) states.push(JSON.parse(data.slice(6)) as LiveState)
        }
        for (const wake of waiters) wake()
      })
      const ended = new Promise<void>((resolveEnd) => response.once('end', resolveEnd))
      response.on('error', () => {})
      const next = (predicate: (state: LiveState) => boolean, what: string, after = 0, timeoutMs = DEADLINE_MS): Promise<LiveState> =>
        new Promise((resolveNext, rejectNext) => {
          const check = (): boolean => {
            const found = states.slice(after).find(predicate)
            if (found === undefined) return false
            clearTimeout(timer)
            waiters.delete(wake)
            resolveNext(found)
            return true
          }
          const wake = (): void => { check() }
          const timer = setTimeout(() => { waiters.delete(wake); rejectNext(new Error(`no state with ${what} within ${timeoutMs} ms`)) }, timeoutMs)
          if (!check()) waiters.add(wake)
        })
      const close = (): void => { req.destroy() }
      t.teardown(close)
      resolve({ response, states, next, ended, close })
    })
    req.on('error', reject)
    req.end()
  })
}
