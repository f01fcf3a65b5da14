import { EventEmitter } from 'node:events'
import type { RouteTable } from '../routing/route-types.js'

export type HealthState = 'healthy' | 'unhealthy' | 'unreachable' | 'unknown'

export const HEALTH_STATES: readonly HealthState[] = Object.freeze(['healthy', 'unhealthy', 'unreachable', 'unknown'])

export interface HealthRecord {
  readonly state: HealthState
  /** Date.now() of the last change of state (or when the route was first seen, for 'unknown'). */
  readonly since: number
  /** Why: 'GET /health answered 503', 'connect ECONNREFUSED', 'timeout after 2000 ms', null for unknown. No absolute paths. */
  readonly cause: string | null
}

/** A route's health as /_sockrouter/routes and the live feed show it: the state, since when (ISO 8601), and why. */
export interface HealthView {
  readonly health: HealthState
  readonly healthSince: string | null
  readonly healthCause: string | null
}

export function viewHealth (record: HealthRecord | undefined): HealthView {
  if (record === undefined) return { health: 'unknown', healthSince: null, healthCause: null }
  return { health: record.state, healthSince: record.since > 0 ? new Date(record.since).toISOString() : null, healthCause: record.cause }
}

/** What `get` answers for a prefix it has no record of: no route, or not in the table yet. */
const NO_RECORD: HealthRecord = Object.freeze({ state: 'unknown', since: 0, cause: null })

/** The connect errors that say "nothing listens there" (issue #12, passive health). */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOENT'])

export function isUnreachableCode (code: string | undefined): boolean {
  return code !== undefined && UNREACHABLE_CODES.has(code)
}

interface Entry {
  /** The upstream's pool name: a socket re-created by a new process gets a new one (build-route-table.ts). */
  readonly origin: string
  record: HealthRecord
}

/**
 * The health of every route in the current table (issue #12). Runtime state
 * kept beside the upstream pools, never in the pure table build: the table
 * does not know it exists, and routing does not change with it.
 *
 * Two kinds of evidence feed it. The request paths report what real traffic
 * met (`observeResponse`, `observeFailure`: passive), and the prober reports
 * its GETs (`record`: active). A route's record follows its upstream: a
 * route removed from the table drops its record, and one whose socket was
 * re-created (a new identity, so a new process) starts again at `unknown`,
 * which the prober then probes at once.
 */
export class RouteHealth extends EventEmitter<{ change: [prefix: string, record: HealthRecord] }> {
  readonly #entries = new Map<string, Entry>()
  readonly #now: () => number

  constructor (options: { now?: () => number } = {}) {
    super()
    this.#now = options.now ?? Date.now
  }

  get (prefix: string): HealthRecord {
    return this.#entries.get(prefix)?.record ?? NO_RECORD
  }

  /** Over the routes of the current table. */
  counts (): Record<HealthState, number> {
    const counts: Record<HealthState, number> = { healthy: 0, unhealthy: 0, unreachable: 0, unknown: 0 }
    for (const entry of this.#entries.values()) counts[entry.record.state]++
    return counts
  }

  /**
   * Follows a table swap. A `down` route (a route file's socket that does not
   * exist) is `unreachable` from the table alone: nothing could answer there.
   */
  sync (table: RouteTable): void {
    const live = new Set<string>()
    const now = this.#now()
    for (const route of table.routes) {
      live.add(route.prefix)
      const origin = route.upstream.origin
      const entry = this.#entries.get(route.prefix)
      if (entry === undefined) {
        this.#entries.set(route.prefix, { origin, record: Object.freeze({ state: 'unknown', since: now, cause: null }) })
      } else if (entry.origin !== origin) {
        this.#entries.set(route.prefix, { origin, record: entry.record })
        this.#set(route.prefix, 'unknown', null)
      }
      if (route.status === 'down') this.#set(route.prefix, 'unreachable', 'socket missing')
    }
    for (const prefix of [...this.#entries.keys()]) {
      if (!live.has(prefix)) this.#entries.delete(prefix)
    }
  }

  /** A probe's verdict. Ignored for a prefix no longer in the table. */
  record (prefix: string, state: HealthState, cause: string | null): void {
    this.#set(prefix, state, cause)
  }

  /**
   * The backend answered a real request (any status). Clears `unreachable`
   * and `unknown` to `healthy`, but never overrules a probe's `unhealthy`:
   * a backend that serves pages while its /health says 503 stays unhealthy
   * rather than flapping with every request. Called once per response, so
   * the common case (nothing changes) is one Map lookup and no allocation.
   */
  observeResponse (prefix: string): void {
    const entry = this.#entries.get(prefix)
    if (entry === undefined) return
    const state = entry.record.state
    if (state === 'healthy' || state === 'unhealthy') return
    this.#set(prefix, 'healthy', 'a request was answered')
  }

  /** A real request or handshake failed; `code` is the innermost error code. Refused or missing: `unreachable` at once. */
  observeFailure (prefix: string, code: string | undefined): void {
    if (!isUnreachableCode(code)) return
    this.#set(prefix, 'unreachable', `connect ${String(code)}`)
  }

  #set (prefix: string, state: HealthState, cause: string | null): void {
    const entry = this.#entries.get(prefix)
    if (entry === undefined || entry.record.state === state) return
    entry.record = Object.freeze({ state, since: this.#now(), cause })
    this.emit('change', prefix, entry.record)
  }
}
