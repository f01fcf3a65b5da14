import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { withoutChildCoverage } from './child-coverage.js'

export const BIN = fileURLToPath(new URL('../../bin/sockrouter', import.meta.url))

/**
 * What the CLI tests run (issue #11). Unset: bin/sockrouter, which picks a
 * fresh bundle or the sources. SOCKROUTER_TEST_CLI names something else: a
 * `.cjs`/`.js` bundle runs with this Node, anything else (the single binary)
 * is executed as it is.
 */
export const CLI_UNDER_TEST = process.env.SOCKROUTER_TEST_CLI ?? ''

export function cliCommand (args: readonly string[]): [string, string[]] {
  if (CLI_UNDER_TEST === '') return [process.execPath, [BIN, ...args]]
  if (/\.c?js$/.test(CLI_UNDER_TEST)) return [process.execPath, [CLI_UNDER_TEST, ...args]]
  return [CLI_UNDER_TEST, [...args]]
}

/** The CLI children's environment: no coverage of their own (helpers/child-coverage.ts), plus `env`. */
export function cliEnv (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...withoutChildCoverage(), ...env }
}

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs bin/sockrouter to completion. */
export async function runCli (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const child = spawn(...cliCommand(args), { env: cliEnv(env) })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

export interface RunningCli {
  readonly child: ChildProcessWithoutNullStreams
  readonly lines: Record<string, unknown>[]
  /** Resolves with the first JSON log line matching `predicate`. */
  waitForLine (predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  stop (signal?: NodeJS.Signals): Promise<number | null>
}

interface Teardown { teardown (fn: () => unknown): void }

/** Starts bin/sockrouter and parses its JSON log lines as they come. */
export function startCli (t: Teardown, args: readonly string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const [file, fullArgs] = cliCommand(args)
  return startProcess(t, file, fullArgs, { env: cliEnv(env) })
}

/** Any router executable (the single binary in test/binary-smoke.test.ts), with its own environment and cwd. */
export function startProcess (t: Teardown, file: string, args: readonly string[], options: { env: NodeJS.ProcessEnv, cwd?: string, extraFds?: readonly number[] }): RunningCli {
  const child = spawn(file, args, { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe', ...(options.extraFds ?? [])] }) as ChildProcessWithoutNullStreams
  const lines: Record<string, unknown>[] = []
  const waiters = new Set<(line: Record<string, unknown>) => void>()
  let buffer = ''
  child.stdout.on('data', (c: Buffer) => {
    buffer += c.toString()
    let nl: number
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const text = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      try {
        const line = JSON.parse(text) as Record<string, unknown>
        lines.push(line)
        for (const waiter of waiters) waiter(line)
      } catch {}
    }
  })
  child.stderr.resume()
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  return {
    child,
    lines,
    waitForLine (predicate, timeoutMs = 15_000) {
      const found = lines.find(predicate)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no matching log line within ${timeoutMs} ms`)) }, timeoutMs)
        const check = (line: Record<string, unknown>): void => {
          if (!predicate(line)) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(line)
        }
        waiters.add(check)
        void exited.then(() => { if (waiters.has(check)) { clearTimeout(timer); waiters.delete(check); reject(new Error('the router exited')) } })
      })
    },
    async stop (signal = 'SIGTERM') {
      child.kill(signal)
      return await exited
    }
  }
}
