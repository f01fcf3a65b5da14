import type { LiveRoute, LiveState, RecentError } from '../admin/live-state.js'
import { formatBytes } from '../logging/pretty-line.js'
import { BOLD, DIM, GREEN, INVERSE, RED, RESET, YELLOW } from '../logging/ansi.js'

/** What `sockrouter top` draws on (issue #12, item 6). */
export interface TopView {
  readonly width: number
  /** Terminal rows; Infinity when printing once to a pipe. */
  readonly height: number
  readonly color: boolean
  /** A line about the feed itself (lost, reconnecting), or null. */
  readonly notice: string | null
}


/** A piece of a line: its text and, optionally, its colour. Lines are cut by their plain text, then painted. */
type Span = readonly [text: string, color?: string]

function paint (spans: readonly Span[], width: number, color: boolean): string {
  let out = ''
  let left = width
  for (const [text, code] of spans) {
    if (left <= 0) break
    const cut = text.length > left ? `${text.slice(0, Math.max(0, left - 1))}…` : text
    left -= cut.length
    out += color && code !== undefined ? `${code}${cut}${RESET}` : cut
  }
  return out
}

function formatUptime (seconds: number): string {
  const d = Math.floor(seconds / 86400)
  const h = Math.floor((seconds % 86400) / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  if (d > 0) return `${d}d ${h}h`
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`
  return `${m}m ${String(seconds % 60).padStart(2, '0')}s`
}

function formatMs (ms: number | null): string {
  if (ms === null) return '-'
  if (ms < 10) return `${ms.toFixed(1)}ms`
  if (ms < 10_000) return `${Math.round(ms)}ms`
  return `${(ms / 1000).toFixed(1)}s`
}

function formatRate (perSecond: number): string {
  if (perSecond === 0) return '0'
  if (perSecond < 10) return perSecond.toFixed(1)
  return String(Math.round(perSecond))
}

function clock (iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return '--:--:--'
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')
}

const HEALTH_COLOR: Record<string, string> = { healthy: GREEN, unhealthy: YELLOW, unreachable: RED, unknown: DIM }

interface Column {
  readonly title: string
  /** Lower goes first when the terminal is too narrow. */
  readonly keep: number
  readonly align: 'left' | 'right'
  cell (route: LiveRoute): Span
}

const COLUMNS: readonly Column[] = [
  { title: 'ROUTE', keep: 100, align: 'left', cell: (r) => [r.prefix] },
  { title: 'HEALTH', keep: 90, align: 'left', cell: (r) => r.status === 'down' ? ['down', RED] : [r.health, HEALTH_COLOR[r.health]] },
  { title: 'REQ/S', keep: 80, align: 'right', cell: (r) => [formatRate(r.requestsPerSecond)] },
  { title: 'ERR%', keep: 70, align: 'right', cell: (r) => r.errorRate > 0 ? [`${(r.errorRate * 100).toFixed(1)}%`, RED] : ['0%'] },
  { title: 'P50', keep: 40, align: 'right', cell: (r) => [formatMs(r.p50Ms)] },
  { title: 'P99', keep: 60, align: 'right', cell: (r) => [formatMs(r.p99Ms)] },
  { title: 'TUNNELS', keep: 50, align: 'right', cell: (r) => [String(r.tunnelsOpen)] },
  { title: 'IN', keep: 20, align: 'right', cell: (r) => [formatBytes(r.bytesIn)] },
  { title: 'OUT', keep: 25, align: 'right', cell: (r) => [formatBytes(r.bytesOut)] },
  { title: 'TARGET', keep: 30, align: 'left', cell: (r) => [r.target] }
]

const GAP = 2

/** The columns that fit `width`, dropping the least needed first; each with its width. */
function fitColumns (routes: readonly LiveRoute[], width: number): Array<{ column: Column, width: number }> {
  let chosen = COLUMNS.map((column) => ({
    column,
    width: Math.max(column.title.length, ...routes.map((r) => column.cell(r)[0].length))
  }))
  const total = (): number => chosen.reduce((sum, c) => sum + c.width, 0) + GAP * (chosen.length - 1)
  while (total() > width && chosen.length > 1) {
    const least = chosen.reduce((a, b) => (b.column.keep < a.column.keep ? b : a))
    chosen = chosen.filter((c) => c !== least)
  }
  return chosen
}

function row (cells: ReadonlyArray<{ span: Span, width: number, align: 'left' | 'right' }>): Span[] {
  const spans: Span[] = []
  cells.forEach(({ span, width, align }, i) => {
    const [text, code] = span
    const padding = ' '.repeat(Math.max(0, width - text.length))
    if (i > 0) spans.push([' '.repeat(GAP)])
    if (align === 'right') spans.push([padding])
    spans.push(code === undefined ? [text] : [text, code])
    if (align === 'left' && i < cells.length - 1) spans.push([padding])
  })
  return spans
}

function errorLine (e: RecentError): Span[] {
  return [[`${clock(e.at)}  `], [String(e.status), e.status >= 500 ? RED : YELLOW], [`  ${e.method} ${e.path}  `], [e.code, DIM], [e.route === null ? '' : `  ${e.route}`, DIM]]
}

/** Most rows the last-errors list takes when routes need the room. */
const ERRORS_SHOWN = 5

/**
 * One frame of `sockrouter top`: pure, from a LiveState to the lines on
 * screen, every line cut to the terminal width (colours never count towards
 * it), the routes and last errors fitted to its height.
 */
export function renderTop (state: LiveState, view: TopView): string[] {
  const { width, height, color } = view
  const draw = (spans: readonly Span[]): string => paint(spans, width, color)
  const top: string[] = []
  const r = state.router
  const h = state.health
  top.push(draw([
    [`sockrouter ${r.version}`, BOLD], ['  '], [r.status, r.status === 'ok' ? GREEN : RED],
    [`  up ${formatUptime(r.uptimeSeconds)}  ${state.routes.length} ${state.routes.length === 1 ? 'route' : 'routes'}: `],
    [`${h.healthy} healthy`, h.healthy > 0 ? GREEN : undefined], [', '],
    [`${h.unhealthy} unhealthy`, h.unhealthy > 0 ? YELLOW : undefined], [', '],
    [`${h.unreachable} unreachable`, h.unreachable > 0 ? RED : undefined], [`, ${h.unknown} unknown  ${clock(state.at)}`]
  ]))
  if (view.notice !== null) top.push(draw([[view.notice, `${RED}${INVERSE}`]]))
  if (r.rescanError !== null) top.push(draw([[`rescan failing since ${clock(r.rescanError.since)}: ${r.rescanError.message}`, RED]]))
  for (const error of r.configErrors.slice(0, 3)) top.push(draw([[error, RED]]))
  if (r.configErrors.length > 3) top.push(draw([[`… ${r.configErrors.length - 3} more route-file errors`, RED]]))
  top.push('')

  const footer = draw([['q', BOLD], [' quit', DIM]])
  const errors = state.errors
  // Rows between the header lines and the blank line + footer.
  const room = height - top.length - 2
  // The routes come first, but leave a few rows for the last errors.
  const keptForErrors = errors.length === 0 ? 0 : Math.min(errors.length, ERRORS_SHOWN) + 2
  const routeRoom = Math.max(2, room - keptForErrors)

  const body: string[] = []
  if (state.routes.length === 0) {
    body.push(draw([['no routes: no sockets in the socket directory and no route files', DIM]]))
  } else {
    const columns = fitColumns(state.routes, width)
    body.push(draw(row(columns.map(({ column, width: w }) => ({ span: [column.title, DIM] as Span, width: w, align: column.align })))))
    const shown = 1 + state.routes.length > routeRoom ? Math.max(0, routeRoom - 2) : state.routes.length
    for (const route of state.routes.slice(0, shown)) {
      body.push(draw(row(columns.map(({ column, width: w }) => ({ span: column.cell(route), width: w, align: column.align })))))
    }
    if (shown < state.routes.length) body.push(draw([[`… ${state.routes.length - shown} more routes (a taller terminal shows them)`, DIM]]))
  }
  const errorRows = Math.min(errors.length, room - body.length - 2)
  if (errorRows > 0) {
    body.push('')
    body.push(draw([['LAST ERRORS', DIM]]))
    for (const e of errors.slice(0, errorRows)) body.push(draw(errorLine(e)))
  }
  // Printed once to a pipe, there are no keys to explain.
  return Number.isFinite(height) ? [...top, ...body, '', footer] : [...top, ...body]
}
