import type { ClientRequest } from 'node:http'
import { adminRequest } from './admin-request.js'
import type { LiveState } from '../admin/live-state.js'
import type { ListenAddress } from '../listen/listen-address.js'

export interface FeedHandlers {
  /** Every `event: state` of the stream, parsed. */
  onState (state: LiveState): void
  /** The stream ended or failed; called once, with why in a few words. */
  onEnd (reason: string): void
}

export interface FeedConnection {
  close (): void
}

/** How long the router may take to answer and send its first state. */
const FIRST_STATE_TIMEOUT_MS = 5000

/**
 * Splits a text/event-stream into events (HTML Living Standard §9.2.6):
 * blank-line separated blocks of `field: value` lines; `data` lines join with
 * newlines, and lines starting with `:` are comments.
 */
export class EventStreamParser {
  #buffer = ''
  readonly #onEvent: (event: string, data: string) => void

  constructor (onEvent: (event: string, data: string) => void) {
    this.#onEvent = onEvent
  }

  push (chunk: string): void {
    this.#buffer += chunk.replace(/\r\n?/g, '\n')
    for (let end = this.#buffer.indexOf('\n\n'); end !== -1; end = this.#buffer.indexOf('\n\n')) {
      const block = this.#buffer.slice(0, end)
      this.#buffer = this.#buffer.slice(end + 2)
      let event = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon === -1 ? line : line.slice(0, colon)
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'event') event = value
        else if (field === 'data') data.push(value)
      }
      if (data.length > 0) this.#onEvent(event, data.join('\n'))
    }
  }
}

/**
 * Reads GET /_sockrouter/events of a running router (issue #12, item 6) over
 * TCP or its unix socket, and hands each state on. No reconnects here: the
 * caller decides what a lost feed means.
 */
export function openLiveFeed (address: ListenAddress, handlers: FeedHandlers): FeedConnection {
  let ended = false
  let gotState = false
  const end = (reason: string): void => {
    if (ended) return
    ended = true
    clearTimeout(timer)
    req.destroy()
    handlers.onEnd(reason)
  }
  const timer = setTimeout(() => end(`no state within ${FIRST_STATE_TIMEOUT_MS / 1000} s`), FIRST_STATE_TIMEOUT_MS)
  const req: ClientRequest = adminRequest(address, {
    path: '/_sockrouter/events',
    agent: false,
    headers: { host: 'localhost', accept: 'text/event-stream' }
  }, (res) => {
    if (res.statusCode !== 200) {
      res.resume()
      end(`it answered ${res.statusCode ?? '?'} on /_sockrouter/events`)
      return
    }
    const parser = new EventStreamParser((event, data) => {
      if (event !== 'state' || ended) return
      let state: LiveState
      try {
        state = JSON.parse(data) as LiveState
      } catch {
        end('it sent a state that is not JSON')
        return
      }
      if (!gotState) clearTimeout(timer)
      gotState = true
      handlers.onState(state)
    })
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => parser.push(chunk))
    res.on('end', () => end('the router ended the feed'))
    res.on('error', (err: NodeJS.ErrnoException) => end(err.code ?? err.message))
  })
  req.on('error', (err: NodeJS.ErrnoException) => end(describeConnectError(err)))
  req.end()
  return { close: () => { ended = true; clearTimeout(timer); req.destroy() } }
}

function describeConnectError (err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return 'connection refused'
  if (err.code === 'ENOENT') return 'no such socket'
  if (err.code === 'ECONNRESET') return 'connection reset'
  return err.code ?? err.message
}
