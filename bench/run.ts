/**
 * `npm run bench`: issue #5's harness. Starts the backends and every target
 * this machine has, runs each scenario against each target interleaved
 * (A B C … then B C … A …) over several rounds, and reports medians and
 * same-round ratios to direct and to nginx. Talks only to 127.0.0.1 and unix
 * sockets in a temp dir under /tmp; every load is bounded in time, and the
 * whole run has a deadline.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { startBackends, type Backends } from './backends.js'
import { killAllChildrenNow, REPO_ROOT, stopAllChildren } from './children.js'
import { findH2load, h2load } from './load/h2load.js'
import { httpLoad } from './load/http-load.js'
import { wsEchoLoad } from './load/ws-load.js'
import { describeMachine, describeVersions } from './machine.js'
import { findNginx } from './nginx.js'
import { machineBusySeconds, ownCpuSeconds } from './proc-stats.js'
import { parseBenchOptions, UsageError, USAGE, type BenchOptions } from './options.js'
import { renderStdout, writeResults, type Report } from './report.js'
import { SCENARIO_GROUPS, SCENARIOS } from './scenarios/index.js'
import type { Scenario, ScenarioContext } from './scenarios/types.js'
import { evaluateGoals, summarize, type RunRecord } from './summarize.js'
import { coreTargets, directTarget, makeLaunchers, startProxyTarget, TARGET_GROUPS, TARGET_IDS, type ProxyLauncher, type RunningTarget, type TargetId } from './targets.js'
import { covers } from './coverage.js'
import { prepareRouterWays } from './router-ways.js'
import { makeBenchCert, type BenchCert } from './tls-cert.js'

function note (line: string): void {
  process.stderr.write(`${line}\n`)
}

/** Round r runs the targets rotated by r, so no target always goes first (or right after a heavy one). */
function rotate<T> (items: readonly T[], by: number): T[] {
  const k = by % Math.max(1, items.length)
  return [...items.slice(k), ...items.slice(0, k)]
}

async function runOne (ctx: ScenarioContext, scenario: Scenario, target: RunningTarget, round: number): Promise<RunRecord> {
  const started = performance.now()
  try {
    const r = await scenario.run(ctx, target, round)
    const shown = scenario.metrics[0] === undefined ? '' : `${scenario.metrics[0].label} ${r.values[scenario.metrics[0].key]?.toFixed(1) ?? '–'}`
    note(`  round ${round} ${scenario.id} ${target.id}: ${shown}${r.errors > 0 ? `, ${r.errors} errors` : ''} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
    return { scenario: scenario.id, target: target.id, round, values: r.values, errors: r.errors, ...(r.detail === undefined ? {} : { detail: r.detail }) }
  } catch (err) {
    note(`  round ${round} ${scenario.id} ${target.id}: FAILED: ${(err as Error).message}`)
    return { scenario: scenario.id, target: target.id, round, values: {}, errors: 1, failure: (err as Error).message }
  }
}

function hasTls (t: RunningTarget): boolean {
  return t.tlsEndpoint('json', '/') !== null
}

/** Untimed load so every target's JIT and pools are warm before round 1; over its TLS listener too, where it has one. */
async function warmUp (targets: readonly RunningTarget[], options: BenchOptions, ctx: ScenarioContext): Promise<void> {
  for (const t of targets) {
    try {
      await httpLoad(t.endpoint('json', '/'), { connections: 50, seconds: options.warmupSeconds })
      await wsEchoLoad(t.endpoint('ws', '/'), { connections: 10, payloadBytes: 64, seconds: options.warmupSeconds / 2, binary: false })
      const tlsJson = t.tlsEndpoint('json', '/')
      const tlsWs = t.tlsEndpoint('ws', '/')
      if (tlsJson !== null && ctx.h2load !== null) {
        await h2load(ctx.h2load, tlsJson, { protocol: 'h2', connections: 5, streams: 10, seconds: options.warmupSeconds, logFile: join(ctx.tempDir, 'h2load-warm-up.tsv') })
      }
      if (tlsWs !== null) await wsEchoLoad(tlsWs, { connections: 10, payloadBytes: 64, seconds: options.warmupSeconds / 2, binary: false })
    } catch (err) {
      note(`  warm-up ${t.id}: ${(err as Error).message}`)
    }
  }
}

/** The certificate both TLS peers serve, made once per run, when a TLS scenario is to run. */
async function prepareCert (scenarios: readonly Scenario[], tempDir: string, notes: string[]): Promise<BenchCert | null> {
  if (!scenarios.some((s) => s.tls === true)) return null
  const { cert, why } = await makeBenchCert(tempDir)
  if (why !== null) { notes.push(`no TLS listeners: ${why}`); note(notes[notes.length - 1] ?? '') }
  return cert
}

async function startTargets (launchers: readonly ProxyLauncher[], notes: string[]): Promise<RunningTarget[]> {
  const started: RunningTarget[] = []
  const fail = (line: string): void => { notes.push(line); note(line) }
  for (const launcher of launchers) {
    try {
      started.push(await startProxyTarget(launcher, launcher.tls))
      continue
    } catch (err) {
      if (!launcher.tls) { fail(`FAILED to start ${launcher.id}: ${(err as Error).message}`); continue }
      // A broken TLS listener costs only the TLS scenarios (issue #13), not every figure of the target.
      fail(`FAILED to start ${launcher.id} with its TLS listener, so the HTTP/2 and wss scenarios run without it: ${(err as Error).message}`)
    }
    try {
      started.push(await startProxyTarget(launcher, false))
    } catch (err) {
      fail(`FAILED to start ${launcher.id}: ${(err as Error).message}`)
    }
  }
  return started
}

function selectScenarios (options: BenchOptions): Scenario[] {
  const only = options.only.flatMap((id) => SCENARIO_GROUPS[id] ?? [id])
  const unknown = only.filter((id) => !SCENARIOS.some((s) => s.id === id))
  if (unknown.length > 0) throw new UsageError(`unknown scenario ${unknown.join(', ')}`)
  return SCENARIOS.filter((s) => only.length === 0 || only.includes(s.id))
}

function selectLaunchers (launchers: readonly ProxyLauncher[], options: BenchOptions): ProxyLauncher[] {
  const wanted: string[] = options.targets.flatMap((id): readonly string[] => TARGET_GROUPS[id] ?? [id])
  const unknown = wanted.filter((id) => !(TARGET_IDS as readonly string[]).includes(id))
  if (unknown.length > 0) throw new UsageError(`unknown target ${unknown.join(', ')}`)
  return launchers.filter((l) => wanted.length === 0 || wanted.includes(l.id))
}

/** Every scenario that ran must have a figure for every target it covers that was meant to run: started, or failed to. */
function findMissing (scenarios: readonly Scenario[], targets: ReadonlyArray<{ readonly id: TargetId, readonly tls: boolean }>, core: ReadonlySet<TargetId>, quick: boolean, runs: readonly RunRecord[]): string[] {
  const missing: string[] = []
  for (const s of scenarios) {
    for (const t of targets) {
      if (!covers(s, t, core, quick)) continue
      const has = runs.some((r) => r.scenario === s.id && r.target === t.id && Object.values(r.values).some(Number.isFinite))
      if (!has) missing.push(`${s.id}/${t.id}`)
    }
  }
  return missing
}

async function bench (options: BenchOptions, tempDir: string): Promise<Omit<Report, 'otherCpu'>> {
  const startedAt = new Date()
  const t0 = performance.now()
  const machine = describeMachine()
  const nginx = findNginx()
  const scenarios = selectScenarios(options)
  const withTls = scenarios.some((s) => s.tls === true)
  const h2loadPath = withTls ? findH2load() : null
  const notes: string[] = []

  note(`sockrouter bench (${options.quick ? 'quick' : 'full'}): temp dir ${tempDir}`)
  const load = machine.loadAtStart[0] ?? 0
  if (load > machine.cores / 2) {
    notes.push(`warning: load average ${load} on ${machine.cores} cores at start; something else is busy and the figures will be noisy`)
    note(notes[notes.length - 1] ?? '')
  }
  const backends: Backends = await startBackends(tempDir, nginx)
  const cert = await prepareCert(scenarios, tempDir, notes)
  const ways = await prepareRouterWays(options.routerDir ?? REPO_ROOT, tempDir)
  const versions = describeVersions(nginx, options.routerDir ?? REPO_ROOT, ways, withTls ? { h2load: h2loadPath } : null)
  const { launchers: all, skipped } = makeLaunchers(options, tempDir, backends, ways, nginx, cert)
  for (const line of [...ways.skipped, ...skipped]) { notes.push(line); note(line) }
  const selected = selectLaunchers(all, options)
  // Judged on what was meant to run, so a target that failed to start still counts as missing, not as out of the core.
  const core = coreTargets(['direct', ...selected.map((l) => l.id)])
  // Only what some chosen scenario runs on: `--only startup` has no use for the --workers 2 binary (issue #14).
  const launchers = selected.filter((l) => scenarios.some((s) => covers(s, { id: l.id, tls: l.tls }, core, options.quick)))
  const proxies = await startTargets(launchers, notes)
  const failedToStart = launchers.filter((l) => !proxies.some((p) => p.id === l.id))
  const targets: RunningTarget[] = [directTarget(backends), ...proxies]
  const ctx: ScenarioContext = { options, backends, launchers, ways, tempDir, h2load: h2loadPath, note }

  const runnable: Scenario[] = []
  for (const s of scenarios) {
    const why = s.unavailable(ctx) ?? await s.probe?.(ctx, targets.filter((t) => covers(s, { id: t.id, tls: hasTls(t) }, core, options.quick))) ?? null
    if (why === null) runnable.push(s)
    else { notes.push(`skipped scenario ${s.id}: ${why}`); note(notes[notes.length - 1] ?? '') }
  }

  // --quick skips it (issue #14): ten targets' warm-ups were a tenth of its minute, and its figures are not judged.
  if (options.warmupSeconds > 0) {
    note(`warming up ${targets.map((t) => t.id).join(', ')}`)
    await warmUp(targets, options, ctx)
  }

  const runs: RunRecord[] = []
  const assemble = (): Omit<Report, 'otherCpu'> => {
    const ids = targets.map((t) => t.id)
    const rows = summarize(runnable, TARGET_IDS.filter((t) => ids.includes(t) || failedToStart.some((l) => l.id === t)), runs)
    return {
      startedAt: startedAt.toISOString(),
      wallSeconds: (performance.now() - t0) / 1000,
      options,
      machine,
      versions,
      targets: TARGET_IDS.filter((t) => ids.includes(t)),
      notes,
      rows,
      goals: evaluateGoals(rows, runs, options.soakTunnels),
      runs,
      missing: findMissing(runnable, [...targets.map((t) => ({ id: t.id, tls: hasTls(t) })), ...failedToStart], core, options.quick, runs)
    }
  }
  soFar = assemble
  for (let round = 1; round <= options.rounds; round++) {
    const order = rotate(targets, round - 1)
    const roundStarted = performance.now()
    note(`round ${round} of ${options.rounds}: ${order.map((t) => t.id).join(' → ')}`)
    for (const s of runnable.filter((x) => x.schedule === 'round')) {
      for (const t of order) if (covers(s, { id: t.id, tls: hasTls(t) }, core, options.quick)) runs.push(await runOne(ctx, s, t, round))
    }
    // Issue #14: ten targets put a full run near its deadline; say early where this one is heading.
    if (round === 1 && options.rounds > 1) {
      const roundSeconds = (performance.now() - roundStarted) / 1000
      note(`round 1 took ${roundSeconds.toFixed(0)} s; ${options.rounds} rounds end near ${((performance.now() - t0) / 1000 + roundSeconds * (options.rounds - 1)).toFixed(0)} s of the ${options.deadlineSeconds} s deadline, before the once-only scenarios`)
    }
  }
  // The soak and the metrics cost first: a run cut at its deadline still has what issue #14 judges.
  const once = runnable.filter((x) => x.schedule === 'once')
  const judgedFirst = [...once.filter((x) => JUDGED_ONCE.includes(x.id)), ...once.filter((x) => !JUDGED_ONCE.includes(x.id))]
  for (const s of judgedFirst) {
    for (const t of targets) if (covers(s, { id: t.id, tls: hasTls(t) }, core, options.quick)) runs.push(await runOne(ctx, s, t, 1))
  }

  // sockrouter drains gracefully on SIGTERM; Node targets write their --cpu-prof on exit.
  await Promise.all(proxies.map((p) => p.stop()))
  soFar = null
  return assemble()
}

/** The once-only scenarios issue #14's targets are judged by. */
const JUDGED_ONCE: readonly string[] = ['tunnel-soak', 'metrics-cost']

/** What bench() has measured so far, for a report at the deadline; null outside the rounds. */
let soFar: (() => Omit<Report, 'otherCpu'>) | null = null

async function main (): Promise<number> {
  let options: BenchOptions
  try {
    options = parseBenchOptions(process.argv.slice(2))
    selectScenarios(options)
    selectLaunchers([], options)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    if (err.message !== '') process.stderr.write(`bench: ${err.message}\n`)
    process.stderr.write(USAGE)
    return err.message === '' ? 0 : 2
  }
  // Short: unix socket paths are capped near 107 bytes.
  const tempDir = mkdtempSync(join('/tmp', 'srb-'))
  const cleanUp = (): void => rmSync(tempDir, { recursive: true, force: true })
  const abort = (why: string, code: number): void => {
    note(`bench: ${why}; stopping every child`)
    killAllChildrenNow()
    cleanUp()
    process.exit(code)
  }
  process.once('SIGINT', () => abort('interrupted', 130))
  process.once('SIGTERM', () => abort('terminated', 143))
  const deadline = setTimeout(() => {
    // A run that overran still leaves what it measured (issue #14: ten targets run close to the deadline).
    if (soFar !== null) {
      const partial = soFar()
      const report: Report = { ...partial, notes: [...partial.notes, `DEADLINE: stopped at ${options.deadlineSeconds} s; these are the figures measured until then`], otherCpu: { seconds: Number.NaN, share: Number.NaN } }
      process.stdout.write(renderStdout(report))
      const written = writeResults(report)
      note(`wrote the figures so far to ${written.json} and ${written.markdown}`)
    }
    abort(`deadline of ${options.deadlineSeconds} s passed`, 1)
  }, options.deadlineSeconds * 1000)
  try {
    const cpuAtStart = { machine: machineBusySeconds(), own: ownCpuSeconds() }
    const measured = await bench(options, tempDir)
    // Every child is reaped before this, so its CPU is in ours; the rest was someone else's.
    await stopAllChildren()
    const otherSeconds = (machineBusySeconds() - cpuAtStart.machine) - (ownCpuSeconds() - cpuAtStart.own)
    const report: Report = { ...measured, otherCpu: { seconds: Math.max(0, otherSeconds), share: Math.max(0, otherSeconds) / (measured.wallSeconds * measured.machine.cores) } }
    process.stdout.write(renderStdout(report))
    const written = writeResults(report)
    note(`wrote ${written.json} and ${written.markdown}`)
    if (report.missing.length > 0) {
      note(`bench: no figures for ${report.missing.join(', ')}`)
      return 1
    }
    return 0
  } finally {
    clearTimeout(deadline)
    await stopAllChildren()
    cleanUp()
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  note(`bench: ${(err as Error).stack ?? String(err)}`)
  killAllChildrenNow()
  process.exit(1)
})
