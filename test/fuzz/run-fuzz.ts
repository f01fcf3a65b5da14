/**
 * `npm run fuzz`: the request-head fuzzer of issue #10. Generates case
 * after case from one seed, sends them through the real router at
 * `--concurrency`, checks every outcome and the backends' logs, replays
 * each failure alone to confirm it, and checks that the router's fds and
 * RSS came back. Exits 1 on any confirmed failure.
 */
import { generateCase } from './generate-case.js'
import { describeCase, escapeBytes } from './describe-case.js'
import { describeFds, newFds } from './describe-fds.js'
import { FuzzSession, type Failure, type FailureClass } from './fuzz-session.js'
import type { FuzzOptions } from './options.js'
import type { Timing } from './send-case.js'

function note (line: string): void {
  process.stderr.write(`${line}\n`)
}

const MiB = 1024 * 1024
/**
 * A leak shows in the live heap after a full GC; RSS also keeps pages V8
 * and malloc hold on to after a burst, so it gets the wider --rss-tolerance-mib.
 */
const HEAP_TOLERANCE_MIB = 8

/** Replays at most this many candidates per class: a bug that fires thousands of times needs a few examples. */
const CONFIRM_PER_CLASS = 5
const REPLAY_TIMING: Timing = { idleMs: 2000, closeDeadlineMs: 5000 }

async function waitForFds (session: FuzzSession, target: number, timeoutMs: number): Promise<number> {
  const until = performance.now() + timeoutMs
  let fds = session.router.usage().fds
  while (fds > target && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    fds = session.router.usage().fds
  }
  return fds
}

async function runRange (session: FuzzSession, options: FuzzOptions, from: number, to: number, timing: Timing, progress: (done: number) => void): Promise<void> {
  let next = from
  const worker = async (): Promise<void> => {
    while (next < to && session.alive) {
      const index = next++
      await session.run(generateCase(options.seed, index, { port: session.router.port }), timing)
      progress(index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(options.concurrency, to - from) }, worker))
}

async function replayOne (options: FuzzOptions): Promise<number> {
  const session = new FuzzSession()
  await session.start()
  try {
    const index = options.only as number
    const c = generateCase(options.seed, index, { port: session.router.port })
    note(`replaying seed ${options.seed} case ${index}\n${describeCase(c)}`)
    const fdsBefore = session.router.usage().fds
    session.arrivals = []
    const outcome = await session.run(c, REPLAY_TIMING)
    await session.settle(1000)
    const fdsAfter = await waitForFds(session, fdsBefore, 10_000)
    note(`  router fds ${fdsBefore} before, ${fdsAfter} after${fdsAfter > fdsBefore ? ' (10 s on): fd-leak' : ''}`)
    note(`  received (${outcome.received.length} bytes${outcome.finSent ? ', after the client sent FIN' : ''}${outcome.error !== null ? `, ${outcome.error}` : ''}): ${escapeBytes(outcome.received, 1500)}`)
    for (const a of session.arrivals ?? []) note(`  ${a.backend} backend got ${a.method} ${a.url}${a.client !== null ? ` for ${a.client}` : ''}${a.upgrade ? ' (upgrade)' : ''}${a.hostLines !== 1 ? `, ${a.hostLines} Host lines` : ''}`)
    for (const f of session.failures) note(`  FAILURE ${f.cls}: ${f.detail}`)
    const failed = session.failures.length > 0 || fdsAfter > fdsBefore
    if (!failed) note('  no failure')
    return failed ? 1 : 0
  } finally {
    await session.stop()
  }
}

interface Confirmed extends Failure {
  readonly confirmed: boolean
}

async function confirm (session: FuzzSession, options: FuzzOptions, candidates: readonly Failure[]): Promise<Confirmed[]> {
  const out: Confirmed[] = []
  const tried = new Map<FailureClass, number>()
  const done = new Set<string>()
  for (const f of candidates) {
    const key = `${f.cls} ${f.index}`
    if (done.has(key)) continue
    done.add(key)
    const n = tried.get(f.cls) ?? 0
    if (f.index < 0 || n >= CONFIRM_PER_CLASS || !session.alive) continue
    tried.set(f.cls, n + 1)
    const before = session.failures.length
    await session.run(generateCase(options.seed, f.index, { port: session.router.port }), REPLAY_TIMING)
    await session.settle(300)
    const again = session.failures.slice(before)
    session.failures.length = before
    out.push({ ...f, confirmed: again.some((g) => g.cls === f.cls && g.index === f.index) })
  }
  return out
}

export async function runFuzz (options: FuzzOptions): Promise<number> {
  if (options.only !== null) return replayOne(options)
  const timing: Timing = { idleMs: options.idleMs, closeDeadlineMs: options.closeDeadlineMs }
  const session = new FuzzSession()
  await session.start()
  const started = performance.now()
  const to = options.from + options.cases
  note(`fuzz: seed ${options.seed}, cases ${options.from}..${to - 1}, concurrency ${options.concurrency}, router pid ${session.router.pid}`)
  try {
    const fdsStart = session.router.usage().fds
    const fdsBefore = describeFds(session.router.pid)
    const warm = Math.min(to, options.from + Math.max(200, Math.min(2000, Math.floor(options.cases / 10))))
    let reported = 0
    const step = Math.max(1000, Math.floor(options.cases / 10))
    const progress = (): void => {
      const done = session.stats.cases
      if (done - reported < step) return
      reported = done
      const secs = (performance.now() - started) / 1000
      note(`  ${done.toLocaleString('en')} cases, ${(done / secs).toFixed(0)}/s, ${session.failures.length} candidate failures, router rss ${(session.router.usage().rssBytes / MiB).toFixed(0)} MiB`)
    }
    await runRange(session, options, options.from, warm, timing, progress)
    const heapWarm = await session.router.gc()
    const rssWarm = session.router.usage().rssBytes
    await runRange(session, options, warm, to, timing, progress)
    const runSeconds = (performance.now() - started) / 1000
    const cpu = { router: session.router.usage().cpuSeconds, harness: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 }
    await session.settle()
    const runCases = session.stats.cases
    // Facts first: a class's few replays go to the candidates the harness's timing can't explain.
    const candidates = [...session.failures].sort((a, b) => Number(a.timingDependent) - Number(b.timingDependent))
    session.failures.length = 0
    const confirmed = await confirm(session, options, candidates)
    let fdsEnd = -1
    let rssEnd = -1
    let heapEnd = -1
    if (session.alive) {
      fdsEnd = await waitForFds(session, fdsStart, 15_000)
      heapEnd = await session.router.gc()
      rssEnd = session.router.usage().rssBytes
    }
    const resources: string[] = []
    if (fdsEnd > fdsStart) {
      const held = (await session.router.heldSockets()).map((s) => {
        // The router may have read less than was sent (it stopped reading), never more.
        const cases = (session.casesByReceived.get(s.bytesWritten) ?? []).filter((c) => c.sent >= s.bytesRead).map((c) => c.index)
        return `\n  held client socket${s.remotePort > 0 ? ` from port ${s.remotePort}` : ''}: read ${s.bytesRead} B, wrote ${s.bytesWritten} B, readable ${s.readableEnded ? 'ended' : 'open'}, writable ${s.writableEnded ? 'ended' : 'open'}; ${cases.length} cases got ${s.bytesWritten} B and sent at least ${s.bytesRead} B: ${cases.slice(0, 12).join(', ')}`
      })
      resources.push(`fd-leak: router had ${fdsStart} fds before the run and ${fdsEnd} 15 s after it; new: ${newFds(fdsBefore, session.router.pid).join('; ')}${held.join('')}`)
    }
    if (rssEnd - rssWarm > options.rssToleranceMiB * MiB) resources.push(`rss-growth: router RSS grew ${((rssEnd - rssWarm) / MiB).toFixed(1)} MiB after warm-up, over the ${options.rssToleranceMiB} MiB tolerance`)
    if (heapEnd - heapWarm > HEAP_TOLERANCE_MIB * MiB) resources.push(`heap-growth: router live heap after a full GC grew ${((heapEnd - heapWarm) / MiB).toFixed(1)} MiB after warm-up, over the ${HEAP_TOLERANCE_MIB} MiB tolerance`)
    return report(options, session, { runSeconds, runCases, cpu, candidates, confirmed, resources, fdsStart, fdsEnd, rssWarm, rssEnd, heapWarm, heapEnd })
  } finally {
    await session.stop()
  }
}

interface RunResult {
  readonly runSeconds: number
  readonly runCases: number
  readonly cpu: { readonly router: number, readonly harness: number }
  readonly candidates: readonly Failure[]
  readonly confirmed: readonly Confirmed[]
  readonly resources: readonly string[]
  readonly fdsStart: number
  readonly fdsEnd: number
  readonly rssWarm: number
  readonly rssEnd: number
  readonly heapWarm: number
  readonly heapEnd: number
}

function report (options: FuzzOptions, session: FuzzSession, r: RunResult): number {
  const s = session.stats
  const statuses = [...s.statuses.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}:${v}`).join(' ')
  const lines = [
    `fuzz: ${r.runCases.toLocaleString('en')} cases in ${r.runSeconds.toFixed(1)} s (${(r.runCases / r.runSeconds).toFixed(0)}/s), seed ${options.seed}, concurrency ${options.concurrency}`,
    `  statuses: ${statuses}`,
    `  CPU: router ${r.cpu.router.toFixed(1)} s, harness and backends ${r.cpu.harness.toFixed(1)} s`,
    `  upgraded ${s.upgraded}, closed without a status line ${s.closedWithoutStatus}, client FIN after ${options.idleMs} ms quiet ${s.finSent}, resets ${s.resets}`,
    `  router fds ${r.fdsStart} before, ${r.fdsEnd} after; after warm-up then at the end, after a full GC: live heap ${(r.heapWarm / MiB).toFixed(1)} → ${(r.heapEnd / MiB).toFixed(1)} MiB (tolerance +${HEAP_TOLERANCE_MIB}), RSS ${(r.rssWarm / MiB).toFixed(1)} → ${(r.rssEnd / MiB).toFixed(1)} MiB (tolerance +${options.rssToleranceMiB})`
  ]
  const byClass = new Map<string, Failure[]>()
  for (const f of r.candidates) byClass.set(f.cls, [...(byClass.get(f.cls) ?? []), f])
  let failed = r.resources.length
  for (const [cls, list] of byClass) {
    const replays = r.confirmed.filter((c) => c.cls === cls)
    const ok = replays.filter((c) => c.confirmed)
    const facts = list.filter((f) => !f.timingDependent)
    const counts = facts.length > 0 || ok.length > 0
    if (counts) failed++
    const cases = new Set(list.map((f) => f.index)).size
    lines.push(`${counts ? 'FAILURE' : 'unconfirmed'} ${cls}: ${list.length} in ${cases} cases (${list.length - facts.length} timing-dependent); replayed alone ${replays.length}, failed again ${ok.length}`)
    const reasons = new Map<string, { n: number, first: number }>()
    for (const f of list) {
      const reason = /\(([a-z-]+)\)$/.exec(f.detail)?.[1]
      if (reason !== undefined) reasons.set(reason, { n: (reasons.get(reason)?.n ?? 0) + 1, first: reasons.get(reason)?.first ?? f.index })
    }
    if (reasons.size > 0) lines.push(`  by reason: ${[...reasons].sort((a, b) => b[1].n - a[1].n).map(([k, v]) => `${k} ${v.n} (e.g. case ${v.first})`).join(', ')}`)
    for (const f of (ok.length > 0 ? ok : facts.length > 0 ? facts : list).slice(0, 3)) {
      lines.push(`  case ${f.index}: ${f.detail}`)
      if (f.index >= 0) {
        lines.push(`  replay: npm run fuzz -- --seed ${options.seed} --case ${f.index}`)
        lines.push(describeCase(generateCase(options.seed, f.index, { port: session.router.port })).replace(/^/gm, '  '))
      }
    }
  }
  for (const line of r.resources) lines.push(`FAILURE ${line}`)
  lines.push(failed === 0 ? 'fuzz: no failures' : `fuzz: ${failed} failure classes (bytes show this run's router port; --case regenerates them for the next one)`)
  process.stdout.write(lines.join('\n') + '\n')
  return failed === 0 ? 0 : 1
}
