import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'

/**
 * Slowloris against a real router process, on loopback only (issue #10,
 * defect 8): `--ips` addresses from 127.0.0.2 up each keep `--per-ip`
 * connections open, trickling one header byte per second and reconnecting
 * whenever the router closes one, for `--seconds`. Meanwhile one request
 * every 100 ms from 127.0.0.1 must still succeed. Reports the legitimate
 * requests' outcomes and latency, what the attack connections got, and the
 * router's peak fd count. Every loop is bounded by the duration.
 *
 * The backend and the legitimate client run in processes of their own, so
 * that the attack's sockets do not slow their event loops. `--router DIR`
 * runs another checkout's bin/sockrouter (a before/after comparison).
 *
 *   node --import tsx bench/slowloris.ts [--ips 2] [--per-ip 5000] [--seconds 30] [--router DIR] [-- router flags…]
 */

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ips: { type: 'string', default: '2' },
    'per-ip': { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '30' },
    router: { type: 'string', default: join(import.meta.dirname, '..') }
  }
})
const IPS = Number(values.ips)
const PER_IP = Number(values['per-ip'])
const SECONDS = Number(values.seconds)
const ROUTER_FLAGS = positionals

const dir = mkdtempSync('/tmp/sr-loris-')
mkdirSync(join(dir, 'svc'))
// The backend runs in a process of its own too: in this one, the attack's event loop would slow it down.
const BACKEND = `
import { createServer } from 'node:http'
createServer((req, res) => { req.resume(); res.end('ok') }).listen(process.argv[1], () => console.log('ready'))
`
const backend = spawn(process.execPath, ['--input-type=module', '-e', BACKEND, join(dir, 'svc', 'a.sock')], { stdio: ['ignore', 'pipe', 'inherit'] })
await new Promise((resolve) => backend.stdout.once('data', resolve))

const router = spawn(process.execPath, [join(values.router, 'bin', 'sockrouter'), '--socket-dir', dir, '--listen', '127.0.0.1:0', '--log-level', 'info', ...ROUTER_FLAGS], { stdio: ['ignore', 'pipe', 'inherit'] })
const port = await new Promise<number>((resolve, reject) => {
  let buffered = ''
  router.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const match = /listening on 127\.0\.0\.1:(\d+)/.exec(buffered)
    if (match !== null) resolve(Number(match[1]))
  })
  router.once('exit', () => reject(new Error('the router exited')))
})
router.stdout.resume()

const fdsOf = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length
/** utime + stime from /proc/<pid>/stat, in seconds (at the usual 100 ticks a second). */
const cpuSecondsOf = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}
const stopAt = performance.now() + SECONDS * 1000
const attack = { opened: 0, refused503: 0, timedOut408: 0, closedWithoutResponse: 0, errors: {} as Record<string, number> }
const open = new Set<Socket>()

function attackOne (ip: string): void {
  if (performance.now() > stopAt) return
  const socket = connect({ port, host: '127.0.0.1', localAddress: ip })
  let received = ''
  socket.on('connect', () => { attack.opened++; socket.write('GET /svc/a/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ') })
  socket.on('data', (c: Buffer) => { received += c.toString('latin1') })
  socket.on('error', (err: NodeJS.ErrnoException) => { attack.errors[err.code ?? 'error'] = (attack.errors[err.code ?? 'error'] ?? 0) + 1 })
  socket.on('close', () => {
    open.delete(socket)
    if (received.startsWith('HTTP/1.1 503')) attack.refused503++
    else if (received.startsWith('HTTP/1.1 408')) attack.timedOut408++
    else attack.closedWithoutResponse++
    // Refused or timed out, a slowloris client comes back on its next tick.
    setTimeout(() => attackOne(ip), 1000)
  })
  open.add(socket)
}

const trickle = setInterval(() => { for (const s of open) if (s.writable) s.write('x') }, 1000)

/** Sequential GETs from 127.0.0.1, one every 100 ms, until the deadline; prints a JSON summary. */
const LEGIT_CLIENT = `
import { request } from 'node:http'
const [port, ms] = process.argv.slice(1).map(Number)
const stopAt = performance.now() + ms
const out = { ok: 0, failed: 0, errors: {}, latencies: [] }
const fail = (why) => { out.failed++; out.errors[why] = (out.errors[why] ?? 0) + 1 }
while (performance.now() < stopAt) {
  const startedAt = performance.now()
  await new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/svc/a/', localAddress: '127.0.0.1', agent: false, timeout: 5000 }, (res) => {
      res.resume()
      res.on('end', () => { if (res.statusCode === 200) { out.ok++; out.latencies.push(performance.now() - startedAt) } else fail(String(res.statusCode)); resolve() })
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })))
    req.on('error', (err) => { fail(err.code ?? 'error'); resolve() })
    req.end()
  })
  await new Promise((resolve) => setTimeout(resolve, 100))
}
console.log(JSON.stringify(out))
`

const baselineFds = fdsOf(router.pid as number)
const routerCpuAtStart = cpuSecondsOf(router.pid as number)
const loadAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ')[0]
// Ramp up in batches, so the connect burst stays under the listen backlog.
for (let n = 0; n < PER_IP && performance.now() < stopAt; n += 250) {
  for (let i = 0; i < IPS; i++) for (let k = n; k < Math.min(PER_IP, n + 250); k++) attackOne(`127.0.0.${i + 2}`)
  await sleep(100)
}
let peakFds = 0
let peakOpen = 0
const legitProc = spawn(process.execPath, ['--input-type=module', '-e', LEGIT_CLIENT, String(port), String(Math.max(1000, stopAt - performance.now()))], { stdio: ['ignore', 'pipe', 'inherit'] })
let legitText = ''
legitProc.stdout.on('data', (c: Buffer) => { legitText += c.toString() })
const legitDone = new Promise((resolve) => legitProc.once('exit', resolve))
while (performance.now() < stopAt) {
  peakFds = Math.max(peakFds, fdsOf(router.pid as number))
  peakOpen = Math.max(peakOpen, open.size)
  await sleep(250)
}
await legitDone
const legit = JSON.parse(legitText) as { ok: number, failed: number, errors: Record<string, number>, latencies: number[] }
clearInterval(trickle)
for (const s of open) s.destroy()

const sorted = legit.latencies.sort((a, b) => a - b)
const pct = (p: number): string => (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN).toFixed(1)
console.log(JSON.stringify({
  attackers: `${IPS} IPs x ${PER_IP} connections, 1 byte/s, reconnecting`,
  routerFlags: ROUTER_FLAGS,
  seconds: SECONDS,
  legit: { ok: legit.ok, failed: legit.failed, errors: legit.errors, p50ms: pct(0.5), p99ms: pct(0.99), maxMs: pct(1) },
  attack,
  attackOpenPeak: peakOpen,
  routerFds: { baseline: baselineFds, peak: peakFds },
  routerCpuSeconds: Number((cpuSecondsOf(router.pid as number) - routerCpuAtStart).toFixed(2)),
  attackerCpuSeconds: Number((process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6).toFixed(2)),
  loadAverageAtStart: loadAtStart
}, null, 2))

router.kill('SIGTERM')
await new Promise((resolve) => router.once('exit', resolve))
backend.kill('SIGTERM')
rmSync(dir, { recursive: true, force: true })
