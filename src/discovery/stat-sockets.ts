import { stat } from 'node:fs/promises'

/** `dev:ino:ctime` of a socket file, or null when nothing (or no socket) is there. */
export async function socketIdentity (path: string): Promise<string | null> {
  const stats = await stat(path, { bigint: true }).catch(() => null)
  if (stats === null || !stats.isSocket()) return null
  // The inode alone is not enough: a socket unlinked and re-bound at once often gets the same one back.
  return `${stats.dev}:${stats.ino}:${stats.ctimeNs}`
}

export async function statSockets (paths: Iterable<string>): Promise<Map<string, string | null>> {
  const states = new Map<string, string | null>()
  for (const path of [...new Set(paths)].sort()) states.set(path, await socketIdentity(path))
  return states
}
