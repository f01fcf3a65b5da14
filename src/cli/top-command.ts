import type { LiveState } from '../admin/live-state.js'
import { formatListenAddress, type ListenAddress } from '../listen/listen-address.js'
import { wantsColor } from '../logging/pretty-line.js'
import { openLiveFeed, type FeedConnection } from './live-feed-client.js'
import { renderTop } from './render-top.js'

export interface TopIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean, columns?: number, rows?: number }
  readonly stderr: NodeJS.WritableStream
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean, setRawMode?: (mode: boolean) => unknown }
}

/** Alternate screen buffer on and off (xterm's private mode 1049), cursor hidden and shown again. */
const ENTER_SCREEN = '\u001b[?1049h\u001b[?25l'
const LEAVE_SCREEN = '\u001b[?25h\u001b[?1049l'
const HOME = '\u001b[H'
const CLEAR_LINE_END = '\u001b[K'
const CLEAR_BELOW = '\u001b[J'
const CTRL_C = '\u0003'

/** A lost feed is tried again this often; the last state stays on screen meanwhile. */
const RETRY_MS = 1000
/** Width for a one-off print to a pipe, which has no columns. */
const PIPE_WIDTH = 120

/** The first state, or why there is none; the connection stays open on success. */
function firstState (address: ListenAddress): Promise<{ state: LiveState, feed: FeedConnection, next: (onState: (s: LiveState) => void, onEnd: (reason: string) => void) => void } | { error: string }> {
  return new Promise((resolve) => {
    let onState: ((s: LiveState) => void) | null = null
    let onEnd: ((reason: string) => void) | null = null
    let settled = false
    const feed = openLiveFeed(address, {
      onState: (state) => {
        if (!settled) {
          settled = true
          resolve({ state, feed, next: (s, e) => { onState = s; onEnd = e } })
          return
        }
        onState?.(state)
      },
      onEnd: (reason) => {
        if (!settled) {
          settled = true
          resolve({ error: reason })
          return
        }
        onEnd?.(reason)
      }
    })
  })
}

/**
 * `sockrouter top` (issue #12, item 6): the dashboard in a terminal. It
 * reads the live feed, GET /_sockrouter/events, of the router at `address`
 * and redraws the alternate screen on every state and every resize, until
 * `q` or Ctrl-C, then gives the terminal back as it was. A router that does
 * not answer is one line on stderr and exit 1. A feed lost later (the router
 * restarting) is said on screen and tried again every second. To a pipe, it
 * prints one frame and exits, as `top -b -n 1` does.
 */
export async function runTop (address: ListenAddress, io: TopIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const where = formatListenAddress(address)
  const first = await firstState(address)
  if ('error' in first) {
    io.stderr.write(`sockrouter: no live feed on ${where} (${first.error}); is the router running? Pass its --listen address.\n`)
    return 1
  }
  const color = wantsColor(env)
  const { stdout } = io
  if (stdout.isTTY !== true) {
    first.feed.close()
    stdout.write(`${renderTop(first.state, { width: stdout.columns ?? PIPE_WIDTH, height: Infinity, color: false, notice: null }).join('\n')}\n`)
    return 0
  }

  let state = first.state
  let notice: string | null = null
  let feed: FeedConnection = first.feed
  let retry: NodeJS.Timeout | null = null
  const draw = (): void => {
    // `||`, not `??`: a pty whose size was never set reports 0 columns and 0 rows (found by a new-user trial).
    const lines = renderTop(state, { width: stdout.columns || 80, height: stdout.rows || 24, color, notice })
    stdout.write(`${HOME}${lines.map((l) => `${l}${CLEAR_LINE_END}`).join('\r\n')}${CLEAR_BELOW}`)
  }
  const onState = (next: LiveState): void => {
    state = next
    notice = null
    draw()
  }
  const onEnd = (reason: string): void => {
    notice = `lost the feed from ${where} (${reason}); retrying every ${RETRY_MS / 1000} s`
    draw()
    retry = setTimeout(() => {
      retry = null
      feed = openLiveFeed(address, { onState, onEnd })
    }, RETRY_MS)
  }
  first.next(onState, onEnd)

  const stdin = io.stdin
  return await new Promise<number>((resolve) => {
    let restored = false
    const restore = (): void => {
      if (restored) return
      restored = true
      if (retry !== null) clearTimeout(retry)
      feed.close()
      stdout.off('resize', draw)
      stdin?.off('data', onKey)
      if (stdin?.isTTY === true) stdin.setRawMode?.(false)
      stdin?.pause()
      process.off('SIGINT', quit)
      process.off('SIGTERM', quit)
      process.off('SIGHUP', quit)
      process.off('exit', restore)
      stdout.write(LEAVE_SCREEN)
    }
    const quit = (): void => {
      restore()
      resolve(0)
    }
    // Raw mode: each key arrives at once, Ctrl-C as a byte rather than a signal.
    const onKey = (chunk: Buffer | string): void => {
      const keys = chunk.toString()
      if (keys.includes('q') || keys.includes('Q') || keys.includes(CTRL_C)) quit()
    }
    // Whatever ends the process, the terminal is given back.
    process.on('exit', restore)
    process.on('SIGINT', quit)
    process.on('SIGTERM', quit)
    process.on('SIGHUP', quit)
    if (stdin?.isTTY === true) stdin.setRawMode?.(true)
    stdin?.on('data', onKey)
    stdin?.resume()
    stdout.on('resize', draw)
    stdout.write(ENTER_SCREEN)
    draw()
  })
}
