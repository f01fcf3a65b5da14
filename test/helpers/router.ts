import { EventEmitter } from 'node:events'
import { Writable } from 'node:stream'
import pino from 'pino'
import { parseListenAddress, type ListenAddress } from '../../src/listen/listen-address.js'
import { startRouter, type RouterOptions, type RunningRouter } from '../../src/start-router.js'
import type { RouteTable } from '../../src/routing/route-types.js'
import { DEADLINE_MS } from './wait-for.js'

export interface TestRouter {
  readonly router: RunningRouter
  readonly port: number
  readonly url: string
  /** Every log line the router wrote, parsed. */
  readonly logs: Record<string, unknown>[]
  /** Resolves with the first log line matching `predicate`, past or future. */
  waitForLog (predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  /** Resolves with the first `count` log lines matching `predicate`, past or future. */
  waitForLogs (predicate: (line: Record<string, unknown>) => boolean, count: number, timeoutMs?: number): Promise<Record<string, unknown>[]>
}

interface Teardown { teardown (fn: () => unknown): void }

export type TestRouterOptions = Partial<Omit<RouterOptions, 'logger' | 'socketDir'>> & { socketDir: string, logLevel?: pino.Level }

/** The real router on 127.0.0.1:0, logging into an array. */
export async function startTestRouter (t: Teardown, options: TestRouterOptions): Promise<TestRouter> {
  const logs: Record<string, unknown>[] = []
  const lines = new EventEmitter()
  const sink = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const text of chunk.toString().split('\n')) {
        if (text === '') continue
        const line = JSON.parse(text) as Record<string, unknown>
        logs.push(line)
        lines.emit('line', line)
      }
      done()
    }
  })
  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = DEADLINE_MS): Promise<Record<string, unknown>> => {
    const found = logs.find(predicate)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { lines.off('line', onLine); reject(new Error(`no matching log line within ${timeoutMs} ms`)) }, timeoutMs)
      const onLine = (line: Record<string, unknown>): void => {
        if (!predicate(line)) return
        clearTimeout(timer)
        lines.off('line', onLine)
        resolve(line)
      }
      lines.on('line', onLine)
    })
  }
  const waitForLogs = (predicate: (line: Record<string, unknown>) => boolean, count: number, timeoutMs = DEADLINE_MS): Promise<Record<string, unknown>[]> => {
    const found = logs.filter(predicate)
    if (found.length >= count) return Promise.resolve(found.slice(0, count))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { lines.off('line', onLine); reject(new Error(`${found.length} of ${count} matching log lines within ${timeoutMs} ms`)) }, timeoutMs)
      const onLine = (line: Record<string, unknown>): void => {
        if (!predicate(line)) return
        found.push(line)
        if (found.length < count) return
        clearTimeout(timer)
        lines.off('line', onLine)
        resolve(found)
      }
      lines.on('line', onLine)
    })
  }
  const listen: ListenAddress[] = options.listen !== undefined ? [...options.listen] : [parseListenAddress('127.0.0.1:0')]
  const router = await startRouter({
    upstreamTimeoutMs: 60_000,
    connectTimeoutMs: 5_000,
    shutdownGraceMs: 1_000,
    // Active health probes off unless a test asks (issue #12): a probe is a request its backend records.
    healthIntervalMs: 0,
    ...options,
    listen,
    logger: pino({ level: options.logLevel ?? 'debug' }, sink)
  })
  t.teardown(() => router.close())
  const first = router.listeners[0]?.address
  const port = first?.kind === 'tcp' ? first.port : 0
  // https:// for a TLS first listener (issue #13); h2c:// and plain ones are http://.
  const scheme = first?.kind === 'tcp' && first.scheme === 'https' ? 'https' : 'http'
  return { router, port, url: `${scheme}://127.0.0.1:${port}`, logs, waitForLog, waitForLogs }
}

/** Resolves once the route table satisfies `predicate`; rejects after `timeoutMs`. Event-driven, no polling. */
export function waitForTable (router: RunningRouter, predicate: (table: RouteTable) => boolean, timeoutMs: number, what = 'route table change'): Promise<RouteTable> {
  if (predicate(router.store.current)) return Promise.resolve(router.store.current)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      router.store.off('swap', onSwap)
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
    }, timeoutMs)
    const onSwap = ({ current }: { current: RouteTable }): void => {
      if (!predicate(current)) return
      clearTimeout(timer)
      router.store.off('swap', onSwap)
      resolve(current)
    }
    router.store.on('swap', onSwap)
  })
}

export function hasRoute (prefix: string) {
  return (table: RouteTable): boolean => table.routes.some((r) => r.prefix === prefix)
}
