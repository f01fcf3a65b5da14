import { CYAN, DIM, GREEN, RED, RESET, YELLOW } from './ansi.js'

/**
 * One pino JSON line → one line a person reads on a terminal (issue #12,
 * item 5). An access line reads as
 * `12:00:01.234 GET /chat/ui/x → 200 chat/ui.sock 3.2 ms 1.2 kB`, 5xx in red
 * and 4xx in yellow; any other line as time, level, message and its fields as
 * key=value. Our own formatter rather than pino-pretty: it is a plain function
 * behind an in-process stream (no transport, no worker thread, so it works in
 * the single binary, issue #2), it loads nothing at start-up (issue #11), and
 * no field ever spreads over several lines.
 */

export interface PrettyOptions {
  /** ANSI colours; off when NO_COLOR is set (https://no-color.org). */
  readonly color: boolean
}


const LEVELS: Record<number, { name: string, color: string }> = {
  10: { name: 'TRACE', color: DIM },
  20: { name: 'DEBUG', color: DIM },
  30: { name: 'INFO ', color: GREEN },
  40: { name: 'WARN ', color: YELLOW },
  50: { name: 'ERROR', color: RED },
  60: { name: 'FATAL', color: RED }
}

/** Fields every line has, or that the access line already shows in its own words. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v'])
const ACCESS_SHOWN = new Set([...HIDDEN, 'reqId', 'method', 'url', 'status', 'service', 'socket', 'upstream', 'ms', 'bytes', 'aborted', 'remote', 'ua', 'referer', 'http'])

/** A value longer than this is cut, so one odd field cannot fill the screen. */
const MAX_VALUE_CHARS = 200

function pad (n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/** Local wall-clock time with milliseconds: what a person compares with their own clock. */
export function formatClock (epochMs: number): string {
  const d = new Date(epochMs)
  return `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}`
}

/** Decimal units, as `ls -h --si` and browsers' network panels count. */
export function formatBytes (bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = bytes / 1000
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit] as string}`
}

export function formatDuration (ms: number): string {
  if (ms < 100) return `${ms.toFixed(1)} ms`
  if (ms < 10_000) return `${Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(1)} s`
}

function paint (text: string, color: string, options: PrettyOptions): string {
  return options.color ? `${color}${text}${RESET}` : text
}

function formatValue (value: unknown): string {
  let text: string
  if (typeof value === 'string') text = /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)
  else if (value !== null && typeof value === 'object' && 'message' in value && typeof value.message === 'string') {
    // A serialized error: its code and message, the stack stays in the JSON format.
    const code = 'code' in value && typeof value.code === 'string' ? `${value.code}: ` : ''
    text = JSON.stringify(`${code}${value.message}`)
  } else text = JSON.stringify(value) ?? String(value)
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text
}

function formatFields (line: Record<string, unknown>, hidden: ReadonlySet<string>, options: PrettyOptions): string {
  let out = ''
  for (const key in line) {
    const value = line[key]
    // An empty list says nothing a person needs (the JSON format keeps it).
    if (hidden.has(key) || value === undefined || (Array.isArray(value) && value.length === 0)) continue
    out += ` ${paint(`${key}=`, DIM, options)}${formatValue(value)}`
  }
  return out
}

function statusColor (status: number): string | null {
  if (status >= 500) return RED
  if (status >= 400) return YELLOW
  return null
}

function isAccessLine (line: Record<string, unknown>): boolean {
  return line.msg === 'request' && typeof line.status === 'number' && typeof line.method === 'string'
}

function formatAccess (line: Record<string, unknown>, options: PrettyOptions): string {
  const status = line.status as number
  const target = typeof line.socket === 'string' ? line.socket : typeof line.upstream === 'string' ? line.upstream : '-'
  const ms = typeof line.ms === 'number' ? ` ${formatDuration(line.ms)}` : ''
  const bytes = typeof line.bytes === 'number' ? ` ${formatBytes(line.bytes)}` : ''
  const aborted = line.aborted === true ? ' (aborted)' : ''
  // HTTP/1.1 is the common case and goes unsaid; HTTP/2 or 1.0 is named (issue #13).
  const http = typeof line.http === 'string' && line.http !== '1.1' ? ` HTTP/${line.http}` : ''
  const body = `${String(line.method)} ${String(line.url)}${http} → ${status} ${target}${ms}${bytes}${aborted}`
  const color = statusColor(status)
  return `${color === null ? body : paint(body, color, options)}${formatFields(line, ACCESS_SHOWN, options)}`
}

/** One JSON log line (as pino writes it) → one pretty line, newline included. */
export function formatPrettyLine (json: string, options: PrettyOptions): string {
  let line: Record<string, unknown>
  try {
    line = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`
  }
  const time = paint(formatClock(typeof line.time === 'number' ? line.time : Date.now()), DIM, options)
  if (isAccessLine(line)) return `${time} ${formatAccess(line, options)}\n`
  const level = LEVELS[line.level as number] ?? { name: String(line.level).padEnd(5), color: CYAN }
  const message = typeof line.msg === 'string' ? line.msg : ''
  return `${time} ${paint(level.name, level.color, options)} ${message}${formatFields(line, HIDDEN, options)}\n`
}

/** Whether colours are wanted: NO_COLOR set to anything but the empty string turns them off. */
export function wantsColor (env: NodeJS.ProcessEnv): boolean {
  const noColor = env.NO_COLOR
  return noColor === undefined || noColor === ''
}
