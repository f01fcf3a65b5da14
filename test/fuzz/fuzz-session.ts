/**
 * One fuzz run's state: the canary backends, the router child and the
 * checks (issue #10). Failures found while cases run at full concurrency
 * are candidates; `confirm` replays each alone, slowly, before it counts,
 * so a loaded machine's timing never reads as a router bug.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { startCanaryBackends, type Arrival, type CanaryBackends } from './canary-backends.js'
import { caseAddress } from './case-address.js'
import { waitForWatches } from './describe-fds.js'
import { CANARY_TAG, type FuzzCase } from './case-types.js'
import { parseResponses } from './parse-responses.js'
import { startRouterChild, type RouterChild } from './router-child.js'
import { sendCase, type CaseOutcome, type Timing } from './send-case.js'

export type FailureClass =
  | 'smuggled' | 'tunnel-smuggled' | 'accepted-invalid' | 'backend-duplicate-host'
  | 'hang' | 'malformed-response' | 'truncated-response' | 'status-500' | 'router-crash'

export interface Failure {
  readonly cls: FailureClass
  readonly index: number
  readonly detail: string
  /**
   * The harness's own timing could have caused it (the client sent FIN
   * while a response was on its way, or a loaded machine was slow): it
   * counts only if a replay alone fails again. The other failures are
   * facts about the bytes the router sent or forwarded.
   */
  readonly timingDependent: boolean
}

export interface Stats {
  cases: number
  statuses: Map<number, number>
  finSent: number
  upgraded: number
  closedWithoutStatus: number
  resets: number
}

const PRIMARY = /\/c(\d+)-r0(?![0-9])/
const ANY_CASE = /(?:\/c|canary-)(\d+)-/

export class FuzzSession {
  readonly failures: Failure[] = []
  readonly stats: Stats = { cases: 0, statuses: new Map(), finSent: 0, upgraded: 0, closedWithoutStatus: 0, resets: 0 }
  router!: RouterChild
  private backends!: CanaryBackends
  private dir = ''
  private readonly running = new Map<number, FuzzCase>()
  /** Canary tags a backend got from a case's connection while the case was still running. */
  private readonly pending = new Map<number, string[]>()
  /** Canary tags each finished case saw in its responses; pruned behind the window. */
  private readonly seen = new Map<number, Set<string>>()
  private readonly mustReject = new Map<number, string>()
  /** The case behind each client address (case-address.ts); pruned with `seen`. */
  private readonly owners = new Map<string, number>()
  /**
   * Cases by how many bytes they got back, with how many they sent: a
   * socket the router never destroyed has forgotten its peer, not its counters.
   */
  readonly casesByReceived = new Map<number, { index: number, sent: number }[]>()
  private crashed = false
  /** Every request the backends got, kept only when set (a `--case` replay prints them). */
  arrivals: Arrival[] | null = null

  async start (): Promise<void> {
    this.dir = mkdtempSync(join('/tmp', 'srfz-'))
    this.backends = await startCanaryBackends(this.dir)
    this.backends.onArrival = (a) => this.onArrival(a)
    this.router = await startRouterChild({ socketDir: this.dir })
    await waitForWatches(this.router.pid, 10_000)
    void this.router.exited.then((how) => {
      if (this.crashed) return
      this.crashed = true
      this.fail('router-crash', -1, `router exited (${how}) with cases ${[...this.running.keys()].join(', ')} in flight`)
    })
  }

  get alive (): boolean {
    return !this.crashed
  }

  async stop (): Promise<void> {
    this.crashed = true
    await this.router.stop()
    await this.backends.close()
    rmSync(this.dir, { recursive: true, force: true })
  }

  private fail (cls: FailureClass, index: number, detail: string, timingDependent = false): void {
    this.failures.push({ cls, index, detail, timingDependent })
  }

  private onArrival (a: Arrival): void {
    this.arrivals?.push(a)
    const where = `${a.backend} backend got ${a.method} ${a.url}`
    // The connection it came on names its case. The index in its URL is only
    // a fallback: a mutation can rewrite it into another running case's.
    const known = a.client === null ? undefined : this.owners.get(a.client)
    const any = ANY_CASE.exec(a.url)
    const index = known ?? (any === null ? -1 : Number(any[1]))
    if (a.afterUpgrade) this.fail('tunnel-smuggled', index, `${where} on a connection whose earlier request asked to upgrade`)
    if (a.hostLines > 1) this.fail('backend-duplicate-host', index, `${where} with ${a.hostLines} Host lines`)
    const primary = PRIMARY.exec(a.url)
    // Only its own first request, while its case runs: a mutation can turn another case's `/c10-r0` into `/c0-r0`.
    if (primary !== null && Number(primary[1]) === index && this.running.has(index)) {
      const reason = this.mustReject.get(index)
      if (reason !== undefined) this.fail('accepted-invalid', index, `${where}; RFC 9112 wants 400 (${reason})`)
    }
    for (const m of a.url.matchAll(CANARY_TAG)) {
      const k = known ?? Number(m[1])
      if (this.running.has(k)) {
        const list = this.pending.get(k) ?? []
        list.push(m[0])
        this.pending.set(k, list)
      } else if (this.seen.get(k)?.has(m[0]) !== true) {
        this.fail('smuggled', k, `${where} after its case ended, and no client got its response`, true)
      }
    }
  }

  async run (c: FuzzCase, timing: Timing): Promise<CaseOutcome> {
    this.running.set(c.index, c)
    this.owners.set(caseAddress(c.index), c.index)
    if (c.mustReject !== null) this.mustReject.set(c.index, c.mustReject)
    const outcome = await sendCase(this.router.port, c, timing)
    this.running.delete(c.index)
    const same = this.casesByReceived.get(outcome.received.length) ?? []
    if (same.length < 5000) same.push({ index: c.index, sent: c.bytes.length })
    this.casesByReceived.set(outcome.received.length, same)
    this.judge(c, outcome)
    return outcome
  }

  private judge (c: FuzzCase, o: CaseOutcome): void {
    const s = this.stats
    s.cases++
    if (o.finSent) s.finSent++
    if (o.error === 'ECONNRESET') s.resets++
    const parsed = parseResponses(o.received, c.hasHead)
    for (const status of parsed.statuses) s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1)
    if (parsed.upgraded) s.upgraded++
    if (parsed.statuses.length === 0 && !o.hung) s.closedWithoutStatus++
    if (o.hung) this.fail('hang', c.index, `no close ${o.elapsedMs.toFixed(0)} ms after the bytes, FIN included`, true)
    if (parsed.malformed !== null) this.fail('malformed-response', c.index, parsed.malformed)
    if (parsed.truncated && !o.finSent && o.error === null) this.fail('truncated-response', c.index, `closed inside a response after ${o.received.length} bytes`, true)
    if (parsed.statuses.includes(500)) this.fail('status-500', c.index, 'the router answered 500 to a healthy backend')
    const tags = new Set([...o.received.toString('latin1').matchAll(CANARY_TAG)].map((m) => m[0]))
    if (tags.size > 0) this.seen.set(c.index, tags)
    for (const tag of this.pending.get(c.index) ?? []) {
      if (!tags.has(tag)) this.fail('smuggled', c.index, `a backend got /${tag} and the client never got its response (${parsed.statuses.join(',') || 'no status'}${o.finSent ? ', FIN sent' : ''})`, o.finSent)
    }
    this.pending.delete(c.index)
    if (this.owners.size > 20_000) {
      const floor = Math.min(...this.running.keys(), c.index) - 10_000
      for (const [address, k] of this.owners) if (k < floor) this.owners.delete(address)
      for (const k of this.seen.keys()) if (k < floor) this.seen.delete(k)
    }
  }

  /** Lets late arrivals (a request the router sends after closing the client) land before they are judged. */
  async settle (ms = 500): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms))
  }
}
