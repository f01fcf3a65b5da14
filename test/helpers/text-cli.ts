import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { cliCommand, cliEnv } from './run-cli.js'
import { DEADLINE_MS } from './wait-for.js'

interface Teardown { teardown (fn: () => unknown): void }

export interface TextProcess {
  readonly child: ChildProcess
  /** Everything written to stdout so far. */
  output (): string
  /** Resolves with the first match of `pattern` in stdout, past or future. */
  waitFor (pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>
  readonly exited: Promise<number | null>
}

/** Watches a child's stdout as text (pretty logs, a terminal's bytes), not as JSON lines. */
export function watchText (t: Teardown, child: ChildProcess): TextProcess {
  let text = ''
  const waiters = new Set<() => void>()
  child.stdout?.on('data', (c: Buffer) => {
    text += c.toString()
    for (const check of [...waiters]) check()
  })
  child.stderr?.on('data', (c: Buffer) => { text += c.toString(); for (const check of [...waiters]) check() })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  return {
    child,
    output: () => text,
    exited,
    waitFor (pattern, timeoutMs = DEADLINE_MS) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(text)
          if (match === null) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(match)
        }
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms in: ${JSON.stringify(text.slice(-2000))}`)) }, timeoutMs)
        waiters.add(check)
        void exited.then(() => { setImmediate(() => { if (waiters.has(check)) { clearTimeout(timer); waiters.delete(check); reject(new Error(`exited before ${String(pattern)}: ${JSON.stringify(text.slice(-2000))}`)) } }) })
        check()
      })
    }
  }
}

/** bin/sockrouter with stdout as a plain pipe, read as text. */
export function startTextCli (t: Teardown, args: readonly string[], env: NodeJS.ProcessEnv = {}): TextProcess {
  const [file, fullArgs] = cliCommand(args)
  return watchText(t, spawn(file, fullArgs, { env: cliEnv(env), stdio: ['pipe', 'pipe', 'pipe'] }))
}

function shellQuote (text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`
}

/**
 * bin/sockrouter on a real pseudo-terminal: script(1) from util-linux runs it
 * on a pty (sized with stty first), copies our stdin to it and its output to
 * our stdout, and exits with its code (-e).
 */
export function startOnPty (t: Teardown, args: readonly string[], env: NodeJS.ProcessEnv = {}, size = { cols: 120, rows: 40 }): TextProcess {
  const [file, fullArgs] = cliCommand(args)
  const inner = `stty cols ${size.cols} rows ${size.rows}; exec ${[file, ...fullArgs].map(shellQuote).join(' ')}`
  return watchText(t, spawn('script', ['-qfec', inner, '/dev/null'], { env: cliEnv(env), stdio: ['pipe', 'pipe', 'pipe'] }))
}
