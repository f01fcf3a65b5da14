import type { MetricDef, Scenario } from './scenarios/types.js'
import { difference, median, ratio } from './stats.js'
import type { TargetId } from './targets.js'

/**
 * From raw runs to what the report shows: per target and metric, the median
 * over rounds, and the median over rounds of the same-round comparison with
 * direct and with nginx. Plus the issue #5 targets, each met or not.
 */

export interface RunRecord {
  readonly scenario: string
  readonly target: TargetId
  readonly round: number
  readonly values: Readonly<Record<string, number>>
  readonly errors: number
  readonly detail?: Readonly<Record<string, number | string>>
  /** Set when the run threw; it then has no values. */
  readonly failure?: string
}

export interface Cell {
  readonly median: number
  /** Median of per-round ratios (or differences) against direct; NaN when not comparable. */
  readonly vsDirect: number
  readonly vsNginx: number
  readonly rounds: number
  readonly errors: number
}

export interface SummaryRow {
  readonly scenario: string
  readonly title: string
  readonly metric: MetricDef
  readonly cells: Partial<Record<TargetId, Cell>>
}

function perRound (runs: readonly RunRecord[], scenario: string, target: TargetId, key: string): Map<number, number> {
  const byRound = new Map<number, number>()
  for (const r of runs) {
    const v = r.values[key]
    if (r.scenario === scenario && r.target === target && v !== undefined && Number.isFinite(v)) byRound.set(r.round, v)
  }
  return byRound
}

/** Median over rounds of `compare(a, b)` where both targets have a value in that round. */
export function sameRoundComparison (runs: readonly RunRecord[], scenario: string, key: string, a: TargetId, b: TargetId, how: 'ratio' | 'difference'): number {
  const av = perRound(runs, scenario, a, key)
  const bv = perRound(runs, scenario, b, key)
  const compared: number[] = []
  for (const [round, v] of av) compared.push(how === 'ratio' ? ratio(v, bv.get(round)) : difference(v, bv.get(round)))
  return median(compared)
}

export function summarize (scenarios: readonly Scenario[], targets: readonly TargetId[], runs: readonly RunRecord[]): SummaryRow[] {
  const rows: SummaryRow[] = []
  for (const s of scenarios) {
    for (const metric of s.metrics) {
      const cells: Partial<Record<TargetId, Cell>> = {}
      for (const t of targets) {
        if (!s.appliesTo(t)) continue
        const values = perRound(runs, s.id, t, metric.key)
        if (values.size === 0) continue
        cells[t] = {
          median: median([...values.values()]),
          vsDirect: t === 'direct' ? Number.NaN : sameRoundComparison(runs, s.id, metric.key, t, 'direct', metric.compare),
          vsNginx: t === 'nginx' ? Number.NaN : sameRoundComparison(runs, s.id, metric.key, t, 'nginx', metric.compare),
          rounds: values.size,
          errors: runs.filter((r) => r.scenario === s.id && r.target === t).reduce((n, r) => n + r.errors, 0)
        }
      }
      rows.push({ scenario: s.id, title: s.title, metric, cells })
    }
  }
  return rows
}

export interface Goal {
  /** The scenario the figure comes from. */
  readonly scenario: string
  readonly goal: string
  readonly measured: number
  /** How `measured` reads: a ratio (×), µs, KiB, ms or fds. */
  readonly unit: string
  readonly needed: string
  /** null when the run has no figure for it (a peer was missing or the scenario did not run). */
  readonly met: boolean | null
}

function valueOf (rows: readonly SummaryRow[], scenario: string, key: string, target: TargetId): number {
  return rows.find((r) => r.scenario === scenario && r.metric.key === key)?.cells[target]?.median ?? Number.NaN
}

function check (scenario: string, goal: string, measured: number, unit: string, needed: string, ok: (v: number) => boolean): Goal {
  return { scenario, goal, measured, unit, needed, met: Number.isFinite(measured) ? ok(measured) : null }
}

/** The "Then make it fast" targets of issue #5, all as same-round ratios; only those whose scenario ran. */
export function evaluateGoals (rows: readonly SummaryRow[], runs: readonly RunRecord[]): Goal[] {
  const sameRound = (scenario: string, key: string, b: TargetId, how: 'ratio' | 'difference' = 'ratio'): number =>
    sameRoundComparison(runs, scenario, key, 'sockrouter', b, how)
  const goals: Goal[] = []
  for (const [scenario, what] of [['http-small', 'JSON backend'], ['http-small-static', 'nginx backend']] as const) {
    goals.push(
      check(scenario, `HTTP small (${what}) req/s vs http-proxy`, sameRound(scenario, 'reqPerSec', 'http-proxy'), '×', '≥ 1.5×', (v) => v >= 1.5),
      check(scenario, `HTTP small (${what}) req/s vs @fastify/http-proxy`, sameRound(scenario, 'reqPerSec', 'fastify-http-proxy'), '×', '≥ 1.5×', (v) => v >= 1.5),
      check(scenario, `HTTP small (${what}) req/s vs nginx`, sameRound(scenario, 'reqPerSec', 'nginx'), '×', '≥ 0.8×', (v) => v >= 0.8)
    )
  }
  goals.push(
    check('http-1c', 'HTTP 1 connection: p99 added over direct', sameRound('http-1c', 'p99Us', 'direct', 'difference'), 'µs', '< 150 µs', (v) => v < 150),
    check('ws-echo', 'WebSocket echo msgs/s vs nginx', sameRound('ws-echo', 'msgsPerSec', 'nginx'), '×', '≥ 0.9×', (v) => v >= 0.9),
    check('ws-1mib', 'WebSocket 1 MiB frames MB/s vs direct', sameRound('ws-1mib', 'mbPerSec', 'direct'), '×', '≥ 0.9×', (v) => v >= 0.9),
    check('idle-tunnels', 'Idle tunnels: RSS per tunnel', valueOf(rows, 'idle-tunnels', 'rssKiBPerTunnel', 'sockrouter'), 'KiB', '≤ 10 KiB', (v) => v <= 10),
    check('idle-tunnels', 'Idle tunnels: fds left after closing', valueOf(rows, 'idle-tunnels', 'fdsLeft', 'sockrouter'), 'fds', '0', (v) => v === 0),
    check('discovery', 'Discovery: add p99', valueOf(rows, 'discovery', 'addP99Ms', 'sockrouter'), 'ms', '< 100 ms', (v) => v < 100),
    check('discovery', 'Discovery: remove p99', valueOf(rows, 'discovery', 'removeP99Ms', 'sockrouter'), 'ms', '< 300 ms', (v) => v < 300)
  )
  return goals.filter((g) => rows.some((r) => r.scenario === g.scenario))
}
