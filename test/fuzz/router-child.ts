/** Starts router-main.ts as a child and reads what it costs from /proc/<pid>. */
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { withoutChildCoverage } from '../helpers/child-coverage.js'
import type { ChildMessage, HeldSocket, RouterChildOptions } from './router-main.js'

const HERE = dirname(fileURLToPath(import.meta.url))

export interface RouterChild {
  readonly pid: number
  readonly port: number
  readonly proc: ChildProcess
  /** Resolves with the exit code or signal once the child is gone. */
  readonly exited: Promise<string>
  /** Runs a full GC in the child, so RSS is read after garbage is gone; resolves with the live heap in bytes. */
  gc (): Promise<number>
  /** The client TCP sockets the router holds right now. */
  heldSockets (): Promise<HeldSocket[]>
  usage (): ProcUsage
  stop (): Promise<void>
}

export interface ProcUsage {
  readonly rssBytes: number
  readonly fds: number
  /** User + system CPU, in seconds (USER_HZ taken as 100, Linux's value on every common build). */
  readonly cpuSeconds: number
}

/** VmRSS, the entries of /proc/<pid>/fd and utime + stime from /proc/<pid>/stat. */
export function readProcUsage (pid: number): ProcUsage {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / 100
  return { rssBytes: kb * 1024, fds: readdirSync(`/proc/${pid}/fd`).length, cpuSeconds }
}

export async function startRouterChild (options: RouterChildOptions): Promise<RouterChild> {
  const proc = fork(join(HERE, 'router-main.ts'), [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: withoutChildCoverage(),
    stdio: ['ignore', 'ignore', 'pipe', 'ipc']
  })
  let stderr = ''
  proc.stderr?.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000) })
  const exited = new Promise<string>((resolve) => proc.once('exit', (code, signal) => resolve(signal ?? String(code))))
  const ready = await Promise.race([
    new Promise<number>((resolve) => proc.on('message', (m: ChildMessage) => { if (m.kind === 'ready') resolve(m.port) })),
    exited.then((how) => { throw new Error(`router child exited (${how}) before it listened: ${stderr.trim()}`) })
  ])
  const pid = proc.pid as number
  return {
    pid,
    port: ready,
    proc,
    exited,
    gc: async () => {
      const done = new Promise<number>((resolve) => {
        const on = (m: ChildMessage): void => { if (m.kind === 'gc-done') { proc.off('message', on); resolve(m.heapUsed) } }
        proc.on('message', on)
      })
      proc.send({ kind: 'gc' })
      return await done
    },
    heldSockets: () => new Promise<HeldSocket[]>((resolve) => {
      const on = (m: ChildMessage): void => { if (m.kind === 'sockets') { proc.off('message', on); resolve(m.sockets) } }
      proc.on('message', on)
      proc.send({ kind: 'sockets' })
    }),
    usage: () => readProcUsage(pid),
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await once(proc, 'exit')
      clearTimeout(timer)
    }
  }
}
