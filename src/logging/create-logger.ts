import pino, { type Level, type Logger } from 'pino'
import { formatPrettyLine, wantsColor } from './pretty-line.js'

export type LogLevel = Level | 'silent'
/** `auto`: pretty on a TTY, JSON lines anywhere else (issue #12: `--log-format` overrides the guess). */
export type LogFormat = 'json' | 'pretty' | 'auto'

/**
 * JSON lines by default. Pretty on a TTY or when asked, as an in-process
 * stream: pino transports run in worker threads that load files by path,
 * which breaks once the router is bundled into one binary (issue #2). The
 * pretty formatter (pretty-line.ts) is one line per entry and plain code:
 * nothing extra to load at start (issue #11).
 */
export async function createLogger (level: LogLevel, destination: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout, format: LogFormat = 'auto', env: NodeJS.ProcessEnv = process.env): Promise<Logger> {
  const options = { level, base: { name: 'sockrouter' } }
  const inner = destination === process.stdout ? stdoutDestination() : destination
  const pretty = format === 'pretty' || (format === 'auto' && destination.isTTY === true)
  if (!pretty) return pino(options, inner)
  const prettyOptions = { color: wantsColor(env) }
  const prettyDestination: pino.DestinationStream & { flush?: (cb?: (err?: Error) => void) => void } = {
    write: (line: string) => { inner.write(formatPrettyLine(line, prettyOptions)) }
  }
  const flush = (inner as { flush?: (cb?: (err?: Error) => void) => void }).flush
  if (typeof flush === 'function') prettyDestination.flush = (cb) => flush.call(inner, cb)
  return pino(options, prettyDestination)
}

/**
 * fd 1 through sonic-boom, in batches: the access log writes a line per
 * request, and one write(2) per line was a syscall on every request (issue
 * #5; see docs/benchmarks.md for the profile). Lines collect in sonic-boom's buffer and go out in one
 * synchronous write once FLUSH_BYTES have gathered or FLUSH_AFTER_MS after
 * the first of them, as nginx's `access_log ... buffer= flush=` does; a
 * quiet router's line still shows up at once to a person watching. Writes
 * stay synchronous: sonic-boom's asynchronous mode was tried and rejected,
 * because its exit-time flushSync retries EPIPE forever, so `sockrouter |
 * head` hung on SIGTERM. When the reader of a pipe goes away, writes fail
 * with EPIPE and logging simply stops.
 */
type FlushableDestination = pino.DestinationStream & { flush (cb?: (err?: Error) => void): void }

let stdout: FlushableDestination | null = null

/** Bytes after which buffered lines are written at once. */
const FLUSH_BYTES = 4096
/** How long a line may wait for others to share its write. */
const FLUSH_AFTER_MS = 20

function stdoutDestination (): pino.DestinationStream {
  if (stdout !== null) return stdout
  const dest = pino.destination({ fd: 1, sync: true, minLength: FLUSH_BYTES })
  let broken = false
  // The pending flush, if any: an early flush (exit, logger.flush) cancels it rather than leaving a second one to run.
  let timer: NodeJS.Timeout | null = null
  const flush = (): void => {
    if (timer !== null) clearTimeout(timer)
    timer = null
    if (!broken) dest.flush()
  }
  dest.on('error', (err: NodeJS.ErrnoException) => {
    if (broken) return
    broken = true
    if (err.code !== 'EPIPE') process.stderr.write(`sockrouter: logging to stdout failed: ${err.code ?? err.message}\n`)
  })
  // Lines still waiting (the shutdown lines, a crash's last words) are written on the way out.
  process.on('exit', flush)
  const destination: FlushableDestination = {
    // For pino's logger.flush(cb).
    flush: (cb) => { flush(); cb?.() },
    write: (line: string) => {
      if (broken) return
      dest.write(line)
      if (timer === null) timer = setTimeout(flush, FLUSH_AFTER_MS).unref()
    }
  }
  stdout = destination
  return destination
}
