import { lstat, unlink } from 'node:fs/promises'
import { connect } from 'node:net'

export type StaleCheck = 'absent' | 'removed' | 'live' | 'not-a-socket'

function answers (path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path)
    probe.once('connect', () => { probe.destroy(); resolve(true) })
    probe.once('error', () => resolve(false))
  })
}

/**
 * Before binding a unix socket: a file left by a crashed process would make
 * listen fail with EADDRINUSE, so it is removed, but only if nobody answers
 * on it. A live socket belongs to another running process and is left alone.
 */
export async function clearStaleSocket (path: string): Promise<StaleCheck> {
  const stats = await lstat(path).catch(() => null)
  if (stats === null) return 'absent'
  if (!stats.isSocket()) return 'not-a-socket'
  if (await answers(path)) return 'live'
  await unlink(path)
  return 'removed'
}
