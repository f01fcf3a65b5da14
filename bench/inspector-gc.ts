import { once } from 'node:events'
import { WebSocket } from 'ws'
import type { Child } from './children.js'

/**
 * A full GC in a Node target, from outside, over the inspector protocol. The
 * idle-tunnel scenario reads RSS before and after opening thousands of
 * tunnels; without this, garbage left by the previous scenario (1 MiB frames)
 * is collected in between and swamps the per-tunnel figure. The targets run
 * with `--inspect=127.0.0.1:0`, which costs nothing until a client attaches.
 */

const LISTENING = /Debugger listening on (ws:\/\/\S+)/g

/** Every inspector URL the child's processes printed: one, or a cluster's primary and each worker (issue #14). */
export function inspectorUrls (child: Child): string[] {
  return [...child.stderrHead().matchAll(LISTENING)].map((m) => m[1] ?? '').filter((url) => url !== '')
}

export async function collectGarbage (url: string): Promise<void> {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  ws.on('error', () => {})
  await once(ws, 'open')
  try {
    // Twice: the first pass runs finalizers that free more on the second.
    for (const id of [1, 2]) {
      const reply = new Promise<void>((resolve) => {
        const onMessage = (data: Buffer): void => {
          if ((JSON.parse(data.toString()) as { id?: number }).id !== id) return
          ws.off('message', onMessage)
          resolve()
        }
        ws.on('message', onMessage)
      })
      ws.send(JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }))
      await reply
    }
  } finally {
    ws.close()
  }
}
