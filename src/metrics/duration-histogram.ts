import type { Aggregator } from 'prom-client'
import { DURATION_BUCKETS, type RequestCounters } from './route-counters.js'

interface HistogramValue {
  readonly value: number
  readonly labels: Record<string, string | number>
  readonly metricName: string
}

/**
 * `sockrouter_request_duration_seconds{route}`, exported from the plain
 * per-route bucket counts at scrape time. prom-client's own Histogram can
 * only be fed one observe() at a time, which hashes and validates the labels
 * on every request (issue #12); this object gives the registry the same
 * shape its Histogram.get() does (`_bucket` with `le`, `_sum`, `_count`).
 */
export class DurationHistogram {
  readonly name = 'sockrouter_request_duration_seconds'
  readonly help = 'Time from the request to the end of its response, by route prefix.'
  readonly type = 'histogram'
  readonly aggregator: Aggregator = 'sum'
  readonly #counters: RequestCounters

  constructor (counters: RequestCounters) {
    this.#counters = counters
  }

  async get (): Promise<{ name: string, help: string, type: string, aggregator: Aggregator, values: HistogramValue[] }> {
    const values: HistogramValue[] = []
    const bucket = `${this.name}_bucket`
    for (const [route, counts] of this.#counters.routes) {
      let cumulative = 0
      for (const [i, le] of DURATION_BUCKETS.entries()) {
        cumulative += counts.durationBuckets[i] as number
        values.push({ value: cumulative, labels: { route, le }, metricName: bucket })
      }
      values.push({ value: counts.count, labels: { route, le: '+Inf' }, metricName: bucket })
      values.push({ value: counts.durationSum, labels: { route }, metricName: `${this.name}_sum` })
      values.push({ value: counts.count, labels: { route }, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** Registry.resetMetrics() calls this; the counts belong to RequestCounters and are never reset. */
  reset (): void {}
}
