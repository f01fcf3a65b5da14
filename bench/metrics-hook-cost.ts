/**
 * What the metrics hook adds to one request, in isolation (issue #12):
 * `node --import tsx bench/metrics-hook-cost.ts [--requests N] [--rounds R] [--json]`.
 * It drives the real hook functions of src/metrics/request-metrics.ts with
 * stand-ins for Fastify's request and reply and a socket's byte counters,
 * and times a loop of requests with and without them, interleaved, 7 rounds;
 * it prints the median difference per request (`--json`: one JSON line, what
 * `npm run bench`'s metrics-cost scenario reads, issue #14). CPU-bound and
 * single-threaded, so a busy machine slows both sides alike more than it
 * does `npm run bench`.
 */
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import { registerRequestMetrics } from '../src/metrics/request-metrics.js'
import { RouterMetrics } from '../src/metrics/router-metrics.js'
import { RouteStore } from '../src/routing/route-store.js'
import { TunnelStats } from '../src/upgrade/tunnel-stats.js'

type Hook = (...args: unknown[]) => void
const hooks = new Map<string, Hook>()
const app = {
  decorateRequest: () => app,
  addHook: (name: string, fn: Hook) => { hooks.set(name, fn); return app }
} as unknown as FastifyInstance
const metrics = new RouterMetrics({ store: new RouteStore(), tunnels: new TunnelStats(), configErrors: () => [] })
registerRequestMetrics(app, metrics)
const onRequest = hooks.get('onRequest') as Hook

const socket = { bytesWritten: 0, bytesRead: 0 }
const headers = { host: 'x', accept: '*/*' }
const route = { prefix: '/json/ui/' }
const flag = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name)
  const v = i === -1 ? fallback : Number(process.argv[i + 1])
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} takes a whole number, 1 or more`)
  return v
}
const N = flag('--requests', 200_000)
const ROUNDS = flag('--rounds', 7)

function run (withHook: boolean): number {
  const started = performance.now()
  for (let i = 0; i < N; i++) {
    const res = Object.assign(new EventEmitter(), { headersSent: true, statusCode: 200 })
    const request = { raw: { socket, headers }, method: 'GET', url: '/json/ui/', routeMatch: { route }, gatewayFailure: null }
    if (withHook) onRequest(request, { raw: res }, () => {})
    socket.bytesWritten += 180
    res.emit('close')
  }
  return (performance.now() - started) * 1e6 / N
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number
run(true); run(false)
const on: number[] = []
const off: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  on.push(run(true))
  off.push(run(false))
}
const result = { withNs: median(on), withoutNs: median(off), hookNs: median(on) - median(off), requests: N, rounds: ROUNDS, node: process.version }
if (process.argv.includes('--json')) console.log(JSON.stringify(result))
else console.log(`per request: with the hook ${result.withNs.toFixed(0)} ns, without ${result.withoutNs.toFixed(0)} ns, the hook ${result.hookNs.toFixed(0)} ns (median of ${ROUNDS} rounds of ${N}, Node ${process.version})`)
