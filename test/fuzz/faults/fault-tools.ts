/** What every fault scenario needs: a killable backend, raw requests with deadlines, figures from /proc. */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync } from 'node:fs'
import { connect } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { withoutChildCoverage } from '../../helpers/child-coverage.js'
import type { RouterChild } from '../router-child.js'

const HERE = dirname(fileURLToPath(import.meta.url))

export interface FaultContext {
  readonly dir: string
  readonly router: RouterChild
}

export interface FaultResult {
  readonly id: string
  readonly title: string
  /** One line per measured figure. */
  readonly figures: readonly string[]
  /** The scenario's own pass/fail verdict, stated in `figures`. */
  readonly ok: boolean
}

export interface Scenario {
  readonly id: string
  readonly title: string
  run (ctx: FaultContext): Promise<FaultResult>
}

export interface FaultBackend {
  readonly proc: ChildProcess
  /** Resolves once the backend reports `message` over IPC; rejects after `timeoutMs`. */
  waitFor (message: string, timeoutMs: number): Promise<void>
  kill (): Promise<void>
}

export function socketPathFor (ctx: FaultContext, name: string): string {
  return join(ctx.dir, 'fz', `${name}.sock`)
}

export async function startFaultBackend (socketPath: string): Promise<FaultBackend> {
  mkdirSync(dirname(socketPath), { recursive: true })
  const proc = fork(join(HERE, 'fault-backend-main.ts'), [socketPath], { execArgv: ['--import', 'tsx'], env: withoutChildCoverage(), stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const exited = once(proc, 'exit')
  await Promise.race([once(proc, 'message'), exited.then(() => { throw new Error('fault backend exited before it listened') })])
  return {
    proc,
    waitFor: (message, timeoutMs) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => { proc.off('message', on); reject(new Error(`backend never said ${message}`)) }, timeoutMs)
      const on = (m: unknown): void => {
        if (m !== message) return
        clearTimeout(timer)
        proc.off('message', on)
        resolve()
      }
      proc.on('message', on)
    }),
    kill: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGKILL')
      await exited
    }
  }
}

/** A socket file with nobody behind it: a child listens, then is SIGKILLed before it can unlink. */
export async function makeStaleSocket (socketPath: string): Promise<void> {
  mkdirSync(dirname(socketPath), { recursive: true })
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.stdout.write('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
  await once(child.stdout, 'data')
  child.kill('SIGKILL')
  await once(child, 'exit')
}

export interface RawReply {
  readonly status: number | null
  readonly ms: number
  /** The connection ended (closed or reset) before the deadline. */
  readonly closed: boolean
  readonly bytes: number
  readonly error: string | null
}

export interface RawRequestOptions {
  readonly timeoutMs: number
  readonly localAddress?: string
  /** Resolves as soon as a status line is in, without waiting for the end. */
  readonly untilStatus?: boolean
  /** Called once the status line is in; the promise then resolves only at close. */
  readonly onStatus?: (status: number) => void
}

/** One request over its own TCP connection, `Connection: close`, read until close or the deadline. */
export function rawRequest (port: number, path: string, options: RawRequestOptions): Promise<RawReply> {
  return new Promise((resolve) => {
    const started = performance.now()
    let data = ''
    let status: number | null = null
    let error: string | null = null
    let settled = false
    const socket = connect({ port, host: '127.0.0.1', ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) })
    const done = (closed: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ status, ms: performance.now() - started, closed, bytes: data.length, error })
      socket.destroy()
    }
    const timer = setTimeout(() => done(false), options.timeoutMs)
    socket.on('error', (err: NodeJS.ErrnoException) => { error = err.code ?? err.message })
    socket.on('close', () => done(true))
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1')
      if (status === null) {
        const m = /^HTTP\/1\.1 (\d{3})/.exec(data)
        if (m !== null) {
          status = Number(m[1])
          options.onStatus?.(status)
          if (options.untilStatus === true) done(false)
        }
      }
    })
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
  })
}

/** Polls a route until it answers `want` (discovery is the router's own, so nothing to wait on here); throws after `timeoutMs`. */
export async function waitForStatus (port: number, path: string, want: (status: number | null) => boolean, timeoutMs: number): Promise<number> {
  const until = performance.now() + timeoutMs
  const started = performance.now()
  for (;;) {
    const r = await rawRequest(port, path, { timeoutMs: 2000, untilStatus: true })
    if (want(r.status)) return performance.now() - started
    if (performance.now() > until) throw new Error(`${path} never answered as wanted within ${timeoutMs} ms (last ${r.status ?? r.error ?? 'nothing'})`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Waits until the router holds at most `target` fds; returns the count it ended at. */
export async function waitForFds (router: RouterChild, target: number, timeoutMs: number): Promise<number> {
  const until = performance.now() + timeoutMs
  let fds = router.usage().fds
  while (fds > target && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    fds = router.usage().fds
  }
  return fds
}

export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

export function histogram (values: readonly (number | string | null)[]): string {
  const counts = new Map<string, number>()
  for (const v of values) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1)
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}×${n}`).join(' ')
}

export const MiB = 1024 * 1024

export function ms (n: number): string {
  return `${n.toFixed(n < 10 ? 1 : 0)} ms`
}
