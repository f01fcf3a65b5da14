import { mkdirSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { spawnChild, tsxArgs, waitForLine, type Child } from './children.js'
import { startNginx, staticBackendConfig, type NginxBinary } from './nginx.js'

/**
 * The backends, each on a unix socket in `DIR/<service>/ui.sock`, so every
 * target reaches them as `/<service>/ui/...`:
 * - `json`: node:http, ~100 B of JSON (and 1 MiB on `/big`), a typical service;
 * - `ws`: a `ws` echo server;
 * - `closing`: node:http, the same JSON, closing each connection after its response (issue #10);
 * - `static`: nginx `return 200`, the ceiling (only when nginx is installed).
 */

export type ServiceId = 'json' | 'ws' | 'static' | 'closing'

export interface Backends {
  readonly socketDir: string
  /** Socket path per service; null when that backend is not available. */
  readonly sockets: Readonly<Record<ServiceId, string | null>>
  readonly children: readonly Child[]
}

export function socketPathFor (socketDir: string, service: string): string {
  return join(socketDir, service, 'ui.sock')
}

async function startNodeBackend (role: 'http' | 'ws' | 'closing', socketPath: string): Promise<Child> {
  mkdirSync(join(socketPath, '..'), { recursive: true })
  const child = spawnChild(`${role} backend`, process.execPath, tsxArgs('bench/backend-main.ts', ['--role', role, '--socket', socketPath]), { stdout: 'pipe', stdinPipe: true })
  await waitForLine(child, (line) => line === 'ready', 20_000)
  return child
}

/** Resolves once something accepts connections on `socketPath`. */
export async function waitForSocket (socketPath: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(socketPath)
      s.once('connect', () => { s.destroy(); resolve(true) })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await sleep(20)
  }
  throw new Error(`nothing listening on ${socketPath} after ${timeoutMs} ms`)
}

export async function startBackends (tempDir: string, nginx: NginxBinary | null): Promise<Backends> {
  // A parent of its own: with no services.d next to the socket dir, sockrouter
  // watches the parent instead, and every write there (such as the access log
  // the harness keeps in the temp dir) would set off a rescan.
  const socketDir = join(tempDir, 'r', 's')
  const json = socketPathFor(socketDir, 'json')
  const ws = socketPathFor(socketDir, 'ws')
  const closing = socketPathFor(socketDir, 'closing')
  const children = await Promise.all([startNodeBackend('http', json), startNodeBackend('ws', ws), startNodeBackend('closing', closing)])
  let staticSocket: string | null = null
  if (nginx !== null) {
    staticSocket = socketPathFor(socketDir, 'static')
    mkdirSync(join(staticSocket, '..'), { recursive: true })
    const child = startNginx('nginx static backend', nginx, join(tempDir, 'nginx-static'), staticBackendConfig(join(tempDir, 'nginx-static'), staticSocket))
    children.push(child)
    try {
      await waitForSocket(staticSocket, 10_000)
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${child.stderrTail()}`)
    }
  }
  return { socketDir, sockets: { json, ws, static: staticSocket, closing }, children }
}
