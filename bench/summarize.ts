import type { MetricDef, Scenario } from './scenarios/types.js'
import { difference, median, ratio } from './stats.js'
import type { TargetId } from './targets.js'

/**
 * From raw runs to what the report shows: per target and metric, the median
 * over rounds, and the median over rounds of the same-round comparison with
 * direct and with nginx. Plus the issue #14 targets, each met or not, and the
 * per-worker efficiency.
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

/** The sockrouter issue #14 judges: the single binary, one worker. */
export const JUDGED: TargetId = 'sockrouter-binary'
/** The Node peers on the binary's own Node: like with like (issue #14). */
export const SAME_NODE_PEERS: readonly TargetId[] = ['http-proxy-binary-node', 'fastify-http-proxy-binary-node']

/**
 * Median over rounds of `a` ÷ the best of `peers` in that round (the
 * highest, for a figure where higher is better): "≥ 1.5× the best Node
 * peer" holds against whichever peer did best each round.
 */
export function sameRoundVsBest (runs: readonly RunRecord[], scenario: string, key: string, a: TargetId, peers: readonly TargetId[]): number {
  const av = perRound(runs, scenario, a, key)
  const pv = peers.map((p) => perRound(runs, scenario, p, key))
  const compared: number[] = []
  for (const [round, v] of av) {
    const best = Math.max(...pv.map((m) => m.get(round) ?? Number.NaN).filter(Number.isFinite))
    if (Number.isFinite(best)) compared.push(ratio(v, best))
  }
  return median(compared)
}

/** The target the soak ran on (tunnel-soak.ts picks --workers 2 where one process cannot hold the tunnels), or null. */
export function soakTargetOf (rows: readonly SummaryRow[]): TargetId | null {
  const cells = rows.find((r) => r.scenario === 'tunnel-soak')?.cells ?? {}
  return (['sockrouter-w2', 'sockrouter-binary'] as const).find((t) => cells[t] !== undefined) ?? null
}

/**
 * Issue #14's targets: the binary, one worker, against the peers on its own
 * Node, against nginx and direct; only those whose scenario ran.
 * `soakTunnels`: how many the soak was meant to hold at once.
 */
export function evaluateGoals (rows: readonly SummaryRow[], runs: readonly RunRecord[], soakTunnels: number): Goal[] {
  const sameRound = (scenario: string, key: string, b: TargetId, how: 'ratio' | 'difference' = 'ratio'): number =>
    sameRoundComparison(runs, scenario, key, JUDGED, b, how)
  const soak = soakTargetOf(rows)
  const soakValue = (key: string): number => soak === null ? Number.NaN : valueOf(rows, 'tunnel-soak', key, soak)
  const soakOn = soak === 'sockrouter-w2' ? ', --workers 2, primary and workers summed' : ''
  const cpuPerRequestNs = valueOf(rows, 'http-small', 'cpuUsPerReq', JUDGED) * 1000
  const goals: Goal[] = [
    check('http-small', 'HTTP small c50 req/s vs the best Node peer on the same Node', sameRoundVsBest(runs, 'http-small', 'reqPerSec', JUDGED, SAME_NODE_PEERS), '×', '≥ 1.5×', (v) => v >= 1.5),
    check('http-small', 'HTTP small c50 req/s vs nginx (one worker each)', sameRound('http-small', 'reqPerSec', 'nginx'), '×', '≥ 0.5×', (v) => v >= 0.5),
    check('http-1c', 'HTTP 1 connection: p50 added over direct', sameRound('http-1c', 'p50Us', 'direct', 'difference'), 'µs', '< 100 µs', (v) => v < 100),
    check('ws-echo', 'WebSocket echo msgs/s vs nginx', sameRound('ws-echo', 'msgsPerSec', 'nginx'), '×', '≥ 0.9×', (v) => v >= 0.9),
    check('ws-1mib', 'WebSocket 1 MiB frames MB/s vs direct', sameRound('ws-1mib', 'mbPerSec', 'direct'), '×', '≥ 1.0×', (v) => v >= 1.0),
    check('tunnel-soak', `Soak: tunnels open at once${soakOn}`, soakValue('tunnels'), 'tunnels', `${soakTunnels.toLocaleString('en-US')}`, (v) => v >= soakTunnels),
    check('tunnel-soak', 'Soak: RSS per idle tunnel', soakValue('rssKiBPerTunnel'), 'KiB', '≤ 5 KiB', (v) => v <= 5),
    check('tunnel-soak', 'Soak: fds left after closing them all', soakValue('fdsLeft'), 'fds', '0', (v) => v === 0),
    check('startup', 'Start-up of the binary: spawn to first routed 200', valueOf(rows, 'startup', 'ms', JUDGED), 'ms', '< 200 ms', (v) => v < 200),
    // A CPU-bound router spending c per request, h of it in the hook, loses h / c of its req/s to it (metrics-cost.ts).
    check('metrics-cost', 'Metrics hook: share of the binary\'s CPU per request (http-small)', (valueOf(rows, 'metrics-cost', 'hookNs', JUDGED) / cpuPerRequestNs) * 100, '%', '< 3%', (v) => v < 3)
  ]
  return goals.filter((g) => rows.some((r) => r.scenario === g.scenario && Object.keys(r.cells).length > 0))
}

export interface WorkerEfficiency {
  readonly target: TargetId
  readonly workers: number
  readonly reqPerSec: number
  readonly busyCores: number
  readonly reqPerBusyCore: number
}

/**
 * Issue #14's per-worker figure, from http-small: req/s per busy core (req/s
 * ÷ (proxy CPU seconds / wall seconds)) for sockrouter with one worker and
 * with two, and for nginx with its one worker. Only the targets that ran.
 */
export function workerEfficiency (rows: readonly SummaryRow[]): WorkerEfficiency[] {
  const out: WorkerEfficiency[] = []
  for (const [target, workers] of [['sockrouter-binary', 1], ['sockrouter-w2', 2], ['nginx', 1]] as const) {
    const reqPerSec = valueOf(rows, 'http-small', 'reqPerSec', target)
    if (!Number.isFinite(reqPerSec)) continue
    out.push({ target, workers, reqPerSec, busyCores: valueOf(rows, 'http-small', 'busyCores', target), reqPerBusyCore: valueOf(rows, 'http-small', 'reqPerBusyCore', target) })
  }
  return out
}
