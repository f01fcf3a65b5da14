/**
 * A route's last 10 seconds of requests, for the dashboard and `sockrouter
 * top` (issue #12): ten one-second slots, each with a count, a count of 5xx
 * answers and a log-scale latency histogram. Memory is fixed per route
 * (about 8 KB), whatever the traffic; percentiles are read from the
 * histogram, so they are within 4.5% of the true value (eight buckets per
 * doubling).
 */

const SLOTS = 10
const SLOT_MS = 1000
/** The first bucket holds everything up to 10 µs. */
const MIN_MS = 0.01
const PER_OCTAVE = 8
/** 24 doublings above 10 µs: up to 168 s; the last bucket holds anything longer. */
const OCTAVES = 24
const BUCKETS = 2 + OCTAVES * PER_OCTAVE
/** How many latency buckets a window has: the length `sum` fills. */
export const LATENCY_BUCKETS = BUCKETS

export interface WindowSummary {
  readonly requests: number
  readonly errors: number
  /** The span the counts cover, in ms: 10 s, or less for a window that started recently. */
  readonly spanMs: number
  readonly p50Ms: number | null
  readonly p99Ms: number | null
}

function bucketOf (ms: number): number {
  if (!(ms > MIN_MS)) return 0
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log2(ms / MIN_MS) * PER_OCTAVE))
}

/** A bucket's representative value: the geometric middle of its bounds. */
function valueOf (bucket: number): number {
  if (bucket === 0) return MIN_MS
  if (bucket === BUCKETS - 1) return MIN_MS * 2 ** OCTAVES
  return MIN_MS * 2 ** ((bucket - 0.5) / PER_OCTAVE)
}

/** One summary at a time sums the slots here, so sampling allocates no histogram. */
const scratch = new Uint32Array(BUCKETS)

/** `histogram` holds a count per latency bucket (the window's own layout): its q-quantile, in ms. */
export function percentile (histogram: ArrayLike<number>, total: number, q: number): number {
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (let b = 0; b < BUCKETS; b++) {
    seen += histogram[b] as number
    if (seen >= rank) return Math.round(valueOf(b) * 1000) / 1000
  }
  return Math.round(valueOf(BUCKETS - 1) * 1000) / 1000
}

export class RouteWindow {
  /** The second (clock ms / 1000) each slot currently holds; -Infinity when never used. */
  readonly #stamps = new Float64Array(SLOTS).fill(-Infinity)
  readonly #requests = new Uint32Array(SLOTS)
  readonly #errors = new Uint32Array(SLOTS)
  readonly #latency = new Uint32Array(SLOTS * BUCKETS)
  /** When the window started counting, so a new route's rate is not diluted over 10 s. */
  readonly #startedMs: number

  constructor (nowMs: number) {
    this.#startedMs = nowMs
  }

  record (nowMs: number, latencyMs: number, isError: boolean): void {
    const second = Math.floor(nowMs / SLOT_MS)
    const slot = second % SLOTS
    if (this.#stamps[slot] !== second) {
      this.#stamps[slot] = second
      this.#requests[slot] = 0
      this.#errors[slot] = 0
      this.#latency.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS)
    }
    const cell = slot * BUCKETS + bucketOf(latencyMs)
    this.#requests[slot] = (this.#requests[slot] as number) + 1
    if (isError) this.#errors[slot] = (this.#errors[slot] as number) + 1
    this.#latency[cell] = (this.#latency[cell] as number) + 1
  }

  /** The current second so far and the nine before it. */
  summarize (nowMs: number): WindowSummary {
    const { requests, errors, spanMs } = this.sum(nowMs, scratch)
    return {
      requests,
      errors,
      spanMs,
      p50Ms: requests === 0 ? null : percentile(scratch, requests, 0.5),
      p99Ms: requests === 0 ? null : percentile(scratch, requests, 0.99)
    }
  }

  /**
   * The same window's counts, with its latency buckets summed into
   * `latency` (LATENCY_BUCKETS long, zeroed here): with `--workers` the
   * primary adds up every worker's buckets and reads the percentiles of the
   * whole router from them (issue #14).
   */
  sum (nowMs: number, latency: Uint32Array): { requests: number, errors: number, spanMs: number } {
    const second = Math.floor(nowMs / SLOT_MS)
    const oldest = second - (SLOTS - 1)
    let requests = 0
    let errors = 0
    latency.fill(0)
    for (let slot = 0; slot < SLOTS; slot++) {
      const stamp = this.#stamps[slot] as number
      if (stamp < oldest || stamp > second) continue
      requests += this.#requests[slot] as number
      errors += this.#errors[slot] as number
      const base = slot * BUCKETS
      for (let b = 0; b < BUCKETS; b++) latency[b] = (latency[b] as number) + (this.#latency[base + b] as number)
    }
    const spanMs = Math.max(SLOT_MS, Math.min(nowMs - oldest * SLOT_MS, nowMs - this.#startedMs))
    return { requests, errors, spanMs }
  }
}
