import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Every process the harness starts goes through here, so that one place can
 * stop them all: on success, on failure, on Ctrl-C and at the deadline.
 */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

export interface Child {
  readonly name: string
  readonly ownGroup: boolean
  readonly proc: ChildProcess
  readonly pid: number
  /** Resolves with the exit code (or null after a signal). */
  readonly exited: Promise<number | null>
  /** The last few KiB of stderr, for error messages. */
  stderrTail (): string
  /** The first few KiB of stderr, where start-up lines such as Node's inspector URL are. */
  stderrHead (): string
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
  stop (graceMs?: number): Promise<void>
}

const live = new Set<Child>()

export interface SpawnOptions {
  /** Where stdout goes: a pipe (to read a ready line), 'ignore', or an open fd (a log file). */
  readonly stdout?: 'pipe' | 'ignore' | number
  /** Give the child a stdin pipe: the harness's own children exit on its EOF, so none outlives a crashed harness. */
  readonly stdinPipe?: boolean
  /** Start it in a process group of its own, so `killAllChildrenNow` takes its children too (nginx's workers outlive a SIGKILLed master). */
  readonly ownGroup?: boolean
  /** Added to the harness's environment. */
  readonly env?: Readonly<Record<string, string>>
}

export function spawnChild (name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Child {
  const stdio: StdioOptions = [options.stdinPipe === true ? 'pipe' : 'ignore', options.stdout ?? 'ignore', 'pipe']
  const proc = spawn(command, args, { cwd: REPO_ROOT, stdio, detached: options.ownGroup === true, env: { ...process.env, ...options.env } })
  if (proc.pid === undefined) throw new Error(`${name}: could not spawn ${command}`)
  let tail = ''
  let head = ''
  proc.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4096)
    if (head.length < 4096) head += chunk.toString()
  })
  const exited = new Promise<number | null>((resolveExit) => {
    proc.once('exit', (code) => resolveExit(code))
    proc.once('error', () => resolveExit(null))
  })
  let stopping: Promise<void> | null = null
  const child: Child = {
    name,
    ownGroup: options.ownGroup === true,
    proc,
    pid: proc.pid,
    exited,
    stderrTail: () => tail.trim(),
    stderrHead: () => head,
    stop: (graceMs = 5000) => (stopping ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM')
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
        await exited
        clearTimeout(timer)
      }
      live.delete(child)
    })())
  }
  live.add(child)
  void exited.then(() => live.delete(child))
  return child
}

/** Stops every child still running, gracefully. */
export async function stopAllChildren (): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(3000)))
}

/** Last resort on exit paths that cannot wait. */
export function killAllChildrenNow (): void {
  for (const c of live) {
    try {
      if (c.ownGroup) process.kill(-c.pid, 'SIGKILL')
      else c.proc.kill('SIGKILL')
    } catch {
      // Already gone.
    }
  }
}

/** Resolves with the first stdout line that satisfies `match`; rejects if the child exits or `timeoutMs` passes. */
export function waitForLine (child: Child, match: (line: string) => boolean, timeoutMs: number): Promise<string> {
  const stdout = child.proc.stdout
  if (stdout === null) return Promise.reject(new Error(`${child.name}: stdout is not piped`))
  return new Promise((resolveLine, reject) => {
    let buffered = ''
    const done = (err: Error | null, line?: string): void => {
      clearTimeout(timer)
      stdout.off('data', onData)
      if (err !== null) reject(err)
      else resolveLine(line ?? '')
    }
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString()
      let nl: number
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        if (match(line)) { done(null, line); return }
      }
    }
    const timer = setTimeout(() => done(new Error(`${child.name}: not ready within ${timeoutMs} ms. ${child.stderrTail()}`)), timeoutMs)
    stdout.on('data', onData)
    void child.exited.then((code) => done(new Error(`${child.name} exited with ${String(code)}: ${child.stderrTail()}`)))
  })
}

/** A free TCP port on 127.0.0.1, for peers that cannot report the one they got (nginx). */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** `node --import tsx <file>`: how the harness runs its own TypeScript children. */
export function tsxArgs (file: string, args: readonly string[]): string[] {
  return ['--import', 'tsx', resolve(REPO_ROOT, file), ...args]
}
