import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { WebSocket } from 'ws'
import { startBackends } from './backends.js'
import { freePort, spawnChild, stopAllChildren, type Child } from './children.js'
import { collectGarbage } from './inspector-gc.js'
import { closeAll, openIdleTunnels } from './load/idle-tunnels.js'
import { rssKiB } from './proc-stats.js'
import { BINARY_NODE } from './router-ways.js'

/**
 * Where an idle tunnel's memory goes (issue #14: ≤ 5 KiB RSS per tunnel):
 * `node --import tsx bench/tunnel-heap.ts [--tunnels N] [--diff] TARGET...`,
 * TARGET one of `bundle=PATH` (a dist/sockrouter.cjs, run on the binary's
 * Node), `binary=PATH`, or `bare` (bench/peers/bare-tunnel-peer.mjs, the
 * least a Node proxy holds per tunnel, on the same Node). For each: RSS and
 * V8 heap per tunnel, after two forced GCs before and after opening N
 * tunnels; with `--diff`, the heap objects they added, by kind, from two
 * heap snapshots (what docs/hot-path.md's tunnel table was read from).
 */

/** Retries `attempt` every 50 ms until it gives a value; throws once `timeoutMs` has passed. */
async function waitFor<T> (attempt: () => T | null | Promise<T | null>, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    const value = await attempt()
    if (value !== null) return value
    await sleep(50)
  }
  throw new Error(`timed out waiting for ${what}`)
}

interface Target { readonly label: string, readonly kind: 'bundle' | 'binary' | 'bare', readonly path: string }

function parseArgs (argv: readonly string[]): { tunnels: number, diff: boolean, targets: Target[] } {
  let tunnels = 5000
  let diff = false
  const targets: Target[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--tunnels') tunnels = Number(argv[++i])
    else if (arg === '--diff') diff = true
    else if (arg === 'bare') targets.push({ label: 'bare', kind: 'bare', path: '' })
    else {
      const [kind, path] = arg.split('=')
      if ((kind !== 'bundle' && kind !== 'binary') || path === undefined) throw new Error(`not a target: ${arg} (bundle=PATH, binary=PATH or bare)`)
      targets.push({ label: arg, kind, path })
    }
  }
  if (targets.length === 0 || !Number.isInteger(tunnels) || tunnels < 1) throw new Error('usage: tunnel-heap.ts [--tunnels N] [--diff] bundle=PATH|binary=PATH|bare ...')
  return { tunnels, diff, targets }
}

/** One inspector session: Runtime.evaluate, forced GCs and heap snapshots in the target. */
class Inspector {
  readonly #ws: WebSocket
  #id = 0

  private constructor (ws: WebSocket) {
    this.#ws = ws
  }

  static async open (url: string): Promise<Inspector> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 })
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    return new Inspector(ws)
  }

  call (method: string, params: object = {}, onEvent?: (method: string, params: { chunk?: string }) => void): Promise<{ result?: { value?: string } }> {
    const id = ++this.#id
    return new Promise((resolve) => {
      const onMessage = (data: Buffer): void => {
        const message = JSON.parse(data.toString()) as { id?: number, method?: string, params?: { chunk?: string }, result?: { result?: { value?: string } } }
        if (message.method !== undefined) onEvent?.(message.method, message.params ?? {})
        if (message.id !== id) return
        this.#ws.off('message', onMessage)
        resolve(message.result ?? {})
      }
      this.#ws.on('message', onMessage)
      this.#ws.send(JSON.stringify({ id, method, params }))
    })
  }

  /** V8's used heap after the full GCs the bench forces before every RSS reading. */
  async heapUsed (url: string): Promise<number> {
    await collectGarbage(url)
    const reply = await this.call('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed' }) as { result?: { value?: number } }
    return Number(reply.result?.value)
  }

  async snapshot (): Promise<HeapCounts> {
    const chunks: string[] = []
    await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, (method, params) => {
      if (method === 'HeapProfiler.addHeapSnapshotChunk' && params.chunk !== undefined) chunks.push(params.chunk)
    })
    return countHeap(JSON.parse(chunks.join('')) as HeapSnapshot)
  }

  close (): void {
    this.#ws.close()
  }
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[]] } }
  nodes: number[]
  strings: string[]
}

/** Bytes and objects per kind (`object:Socket`, `closure:onData`, `(string)`...). */
type HeapCounts = Map<string, { bytes: number, count: number }>

function countHeap (heap: HeapSnapshot): HeapCounts {
  const fields = heap.snapshot.meta.node_fields
  const types = heap.snapshot.meta.node_types[0]
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number]
  const counts: HeapCounts = new Map()
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const type = types[heap.nodes[i + typeAt] as number] as string
    const kind = type.endsWith('string') ? '(string)' : type === 'code' ? '(code)' : `${type}:${(heap.strings[heap.nodes[i + nameAt] as number] ?? '').slice(0, 50)}`
    const entry = counts.get(kind) ?? { bytes: 0, count: 0 }
    entry.bytes += heap.nodes[i + sizeAt] as number
    entry.count++
    counts.set(kind, entry)
  }
  return counts
}

function printDiff (before: HeapCounts, after: HeapCounts, tunnels: number): void {
  const rows = [...after].map(([kind, a]) => {
    const b = before.get(kind) ?? { bytes: 0, count: 0 }
    return { kind, bytes: (a.bytes - b.bytes) / tunnels, count: (a.count - b.count) / tunnels }
  }).filter((r) => r.bytes >= 16).sort((x, y) => y.bytes - x.bytes)
  console.log(`  heap objects added per tunnel: ${rows.reduce((sum, r) => sum + r.bytes, 0).toFixed(0)} B`)
  for (const r of rows.slice(0, 25)) console.log(`  ${r.bytes.toFixed(0).padStart(6)} B  ${r.count.toFixed(2).padStart(5)} per tunnel  ${r.kind}`)
}

function spawnTarget (target: Target, socketDir: string, wsSocket: string, port: number): Child {
  const inspect = '--inspect=127.0.0.1:0'
  // The bench's own raised caps: thousands of tunnels from one IP (bench/targets.ts).
  const caps = ['--max-tunnels', '100000', '--max-tunnels-per-ip', '100000', '--log-level', 'warn']
  const env = { SOCKROUTER_MAX_CONNECTIONS_PER_IP: '100000' }
  const listen = ['--socket-dir', socketDir, '--listen', `127.0.0.1:${port}`]
  if (target.kind === 'binary') return spawnChild(target.label, target.path, [...listen, ...caps], { stdinPipe: true, env: { ...env, NODE_OPTIONS: inspect } })
  if (target.kind === 'bundle') return spawnChild(target.label, BINARY_NODE, [inspect, target.path, ...listen, ...caps], { stdinPipe: true, env })
  return spawnChild(target.label, BINARY_NODE, [inspect, 'bench/peers/bare-tunnel-peer.mjs', '--port', String(port), '--socket', wsSocket], { stdinPipe: true })
}

async function measure (target: Target, socketDir: string, wsSocket: string, tunnels: number, diff: boolean): Promise<void> {
  const port = await freePort()
  const child = spawnTarget(target, socketDir, wsSocket, port)
  const endpoint = { kind: 'tcp' as const, port, path: '/ws/ui/' }
  try {
    const url = await waitFor(() => /Debugger listening on (ws:\/\/\S+)/.exec(child.stderrHead())?.[1] ?? null, 20_000, 'the inspector URL')
    // Ready once a tunnel opens end to end; a few first, so lazily loaded code is in the baseline.
    const warm = await waitFor(async () => {
      const opened = await openIdleTunnels(endpoint, 100, { concurrency: 16, deadlineMs: 5_000 })
      if (opened.sockets.length === 100) return opened
      closeAll(opened.sockets)
      return null
    }, 30_000, 'the first tunnels')
    closeAll(warm.sockets)
    await sleep(500)
    const inspector = await Inspector.open(url)
    const heap0 = await inspector.heapUsed(url)
    const rss0 = rssKiB([child.pid])
    const before = diff ? await inspector.snapshot() : null
    const opened = await openIdleTunnels(endpoint, tunnels, { concurrency: 64, deadlineMs: 120_000 })
    await sleep(500)
    const heap1 = await inspector.heapUsed(url)
    const rss1 = rssKiB([child.pid])
    const n = opened.sockets.length
    console.log(`${target.label}: ${n} tunnels (${opened.failures} failed); per tunnel: RSS ${((rss1 - rss0) / n).toFixed(2)} KiB, V8 heap ${((heap1 - heap0) / 1024 / n).toFixed(2)} KiB`)
    if (before !== null) printDiff(before, await inspector.snapshot(), n)
    inspector.close()
    closeAll(opened.sockets)
  } finally {
    await child.stop()
  }
}

const { tunnels, diff, targets } = parseArgs(process.argv.slice(2))
const tempDir = mkdtempSync('/tmp/srth-')
try {
  const backends = await startBackends(join(tempDir, 'b'), null)
  const wsSocket = backends.sockets.ws
  if (wsSocket === null) throw new Error('no WebSocket backend')
  for (const target of targets) await measure(target, backends.socketDir, wsSocket, tunnels, diff)
} finally {
  await stopAllChildren()
  rmSync(tempDir, { recursive: true, force: true })
}
