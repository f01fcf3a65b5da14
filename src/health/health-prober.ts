import type { Route, RouteTable } from '../routing/route-types.js'
import { probeRoute } from './probe-route.js'
import type { RouteHealth } from './route-health.js'

/** The router-wide check: `--health-path`, `--health-interval` (0 = off) and the 2 s timeout. */
export interface HealthCheckDefaults {
  readonly path: string
  readonly intervalMs: number
  readonly timeoutMs: number
}

interface ResolvedCheck {
  readonly path: string
  readonly intervalMs: number
  readonly timeoutMs: number
}

/** One route's probe loop: at most one probe in flight, the next one an interval after it ends. */
interface Schedule {
  readonly route: Route
  /** What the loop probes; a change of any part starts a new loop. */
  readonly key: string
  readonly check: ResolvedCheck
  timer: NodeJS.Timeout | null
  controller: AbortController | null
  stopped: boolean
}

/** The first probe of a new or changed route waits at most this: "at once", spread a little so a restart does not hit every backend in the same millisecond. */
const MAX_FIRST_DELAY_MS = 250

/** ±10% per interval, so routes that started together drift apart instead of probing in lockstep. */
function jittered (intervalMs: number): number {
  return Math.round(intervalMs * (0.9 + Math.random() * 0.2))
}

/** The route's own `healthCheck` over the defaults; null when the route is not probed. */
export function resolveCheck (route: Route, defaults: HealthCheckDefaults): ResolvedCheck | null {
  const own = route.options.healthCheck
  if (own === false) return null
  const check = {
    path: own.path ?? defaults.path,
    intervalMs: own.intervalMs ?? defaults.intervalMs,
    timeoutMs: own.timeoutMs ?? defaults.timeoutMs
  }
  return check.intervalMs > 0 ? check : null
}

/**
 * Active health checks (issue #12), as Caddy's `healthchecks.go` runs them:
 * a ticker per route that GETs the check path straight from the backend and
 * hands the verdict to RouteHealth. It follows route-table swaps: a removed
 * route's loop stops (an in-flight probe is aborted and its verdict dropped),
 * and a new route, or one whose target, socket identity (a new process) or
 * check changed, gets a new loop whose first probe runs at once. A `down`
 * route is not probed: its socket does not exist, and the table swap that
 * brings it up starts its loop. One probe per route, even when routes share
 * a socket, so each route's verdict is about its own check path.
 * Timers are unref'd: probing never keeps the process alive.
 */
export class HealthProber {
  readonly #health: RouteHealth
  readonly #defaults: HealthCheckDefaults
  readonly #schedules = new Map<string, Schedule>()
  #closed = false

  constructor (health: RouteHealth, defaults: HealthCheckDefaults) {
    this.#health = health
    this.#defaults = defaults
  }

  /** Routes probed right now, for tests and the logs. */
  get probing (): number {
    return this.#schedules.size
  }

  sync (table: RouteTable): void {
    if (this.#closed) return
    const wanted = new Map<string, { route: Route, check: ResolvedCheck, key: string }>()
    for (const route of table.routes) {
      const check = route.status === 'up' ? resolveCheck(route, this.#defaults) : null
      if (check === null) continue
      const key = JSON.stringify([route.upstream.origin, route.upstream.label, check.path, check.intervalMs, check.timeoutMs])
      wanted.set(route.prefix, { route, check, key })
    }
    for (const [prefix, schedule] of this.#schedules) {
      if (wanted.get(prefix)?.key === schedule.key) continue
      this.#stop(schedule)
      this.#schedules.delete(prefix)
    }
    for (const [prefix, { route, check, key }] of wanted) {
      if (this.#schedules.has(prefix)) continue
      const schedule: Schedule = { route, key, check, timer: null, controller: null, stopped: false }
      this.#schedules.set(prefix, schedule)
      this.#wait(schedule, Math.round(Math.random() * Math.min(MAX_FIRST_DELAY_MS, check.intervalMs / 10)))
    }
  }

  close (): void {
    this.#closed = true
    for (const schedule of this.#schedules.values()) this.#stop(schedule)
    this.#schedules.clear()
  }

  #wait (schedule: Schedule, delayMs: number): void {
    schedule.timer = setTimeout(() => { void this.#probe(schedule) }, delayMs)
    schedule.timer.unref()
  }

  async #probe (schedule: Schedule): Promise<void> {
    schedule.timer = null
    schedule.controller = new AbortController()
    const { path, timeoutMs, intervalMs } = schedule.check
    const result = await probeRoute(schedule.route.upstream, { path, timeoutMs, signal: schedule.controller.signal })
    schedule.controller = null
    if (schedule.stopped) return
    this.#health.record(schedule.route.prefix, result.state, result.cause)
    this.#wait(schedule, jittered(intervalMs))
  }

  #stop (schedule: Schedule): void {
    schedule.stopped = true
    if (schedule.timer !== null) clearTimeout(schedule.timer)
    schedule.timer = null
    schedule.controller?.abort()
    schedule.controller = null
  }
}
