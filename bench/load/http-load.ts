import autocannon from 'autocannon'
import { httpUrl, type Endpoint } from '../endpoint.js'
import { Samples } from '../stats.js'

/**
 * HTTP load with autocannon as a library, bounded by `seconds`. Direct runs
 * go over the unix socket (`socketPath`). Latency comes from autocannon's
 * per-response times (fractional ms), kept at µs precision here.
 */

export interface HttpLoadResult {
  /** 2xx responses only. */
  readonly ok: number
  readonly seconds: number
  readonly reqPerSec: number
  /** Response bytes (headers included) per second, 2xx or not. */
  readonly bytesPerSec: number
  readonly p50Us: number
  readonly p99Us: number
  /** Connection errors, timeouts and non-2xx answers. */
  readonly errors: number
}

export interface HttpLoadOptions {
  readonly connections: number
  readonly seconds: number
  /** Stop after this many requests instead of after `seconds`. */
  readonly amount?: number
  readonly method?: 'GET' | 'POST'
  readonly body?: string
}

export function httpLoad (e: Endpoint, { connections, seconds, amount, method, body }: HttpLoadOptions): Promise<HttpLoadResult> {
  const latencies = new Samples()
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: httpUrl(e),
      ...(e.kind === 'unix' ? { socketPath: e.socketPath } : {}),
      connections,
      pipelining: 1,
      duration: seconds,
      ...(amount === undefined ? {} : { amount }),
      ...(method === undefined ? {} : { method }),
      ...(body === undefined ? {} : { body }),
      // Seconds; a stalled request counts as an error rather than hanging the run.
      timeout: 10,
      // autocannon checks its stop flag once per sample; the default 1 s would round every run up to whole seconds.
      sampleInt: 100
    }, (err, result) => {
      if (err !== null && err !== undefined) { reject(err instanceof Error ? err : new Error(String(err))); return }
      const [p50, p99] = latencies.percentiles([50, 99])
      const ok = result['2xx']
      resolve({
        ok,
        seconds: result.duration,
        reqPerSec: ok / result.duration,
        bytesPerSec: result.throughput.total / result.duration,
        p50Us: p50 ?? Number.NaN,
        p99Us: p99 ?? Number.NaN,
        errors: result.errors + result.non2xx
      })
    })
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      if (statusCode >= 200 && statusCode < 300) latencies.add(responseTimeMs * 1000)
    })
  })
}
