/**
 * The numbers: latency samples at microsecond precision (autocannon's own
 * histogram keeps whole milliseconds, too coarse for "< 150 µs added"),
 * medians over rounds, and same-round ratios.
 */

/** Latency samples (µs for loads, ms for discovery), all kept so percentiles are exact. */
export class Samples {
  private data = new Float64Array(4096)
  private n = 0

  add (value: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.n++] = value
  }

  get count (): number {
    return this.n
  }

  /** Nearest-rank percentiles, e.g. `percentiles([50, 99])`; NaN when empty. */
  percentiles (ps: readonly number[]): number[] {
    if (this.n === 0) return ps.map(() => Number.NaN)
    const sorted = this.data.slice(0, this.n).sort()
    return ps.map((p) => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1))] ?? Number.NaN)
  }
}

/** Median of the finite values; NaN if there are none. */
export function median (values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (v.length === 0) return Number.NaN
  const mid = Math.floor(v.length / 2)
  return v.length % 2 === 1 ? v[mid] ?? Number.NaN : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2
}

/** `a / b`, or NaN when either is missing or b is 0. */
export function ratio (a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN
  return a / b
}

/** `a - b`, or NaN when either is missing. */
export function difference (a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) return Number.NaN
  return a - b
}
