import type { Stats } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { DiscoveredSocket, SocketSnapshot } from '../routing/route-types.js'
import { socketIdentity } from './stat-sockets.js'

/** Names that can appear in a URL segment unescaped; a leading dot hides a file. */
const VALID_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/
const SOCKET_SUFFIX = '.sock'

export type IgnoredEntryReporter = (relativePath: string, reason: string) => void

/** `ui.sock` gives `ui`; anything else gives null. */
function socketBaseName (fileName: string): string | null {
  if (!fileName.endsWith(SOCKET_SUFFIX)) return null
  const base = fileName.slice(0, -SOCKET_SUFFIX.length)
  return VALID_NAME.test(base) ? base : null
}

async function statOrNull (path: string): Promise<Stats | null> {
  try {
    return await stat(path)
  } catch {
    // Gone between readdir and stat, or unreadable: the next scan sees the truth.
    return null
  }
}

async function listOrEmpty (dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch {
    return []
  }
}

async function socketAt (dir: string, relativePath: string, service: string, name: string | null, report: IgnoredEntryReporter): Promise<DiscoveredSocket | null> {
  const path = join(dir, relativePath)
  const identity = await socketIdentity(path)
  if (identity === null) {
    if (await statOrNull(path) !== null) report(relativePath, 'not a socket')
    return null
  }
  return { service, name, path, relativePath, identity }
}

async function scanServiceDir (dir: string, service: string, report: IgnoredEntryReporter): Promise<DiscoveredSocket[]> {
  const found: DiscoveredSocket[] = []
  for (const fileName of (await listOrEmpty(join(dir, service))).sort()) {
    const relativePath = `${service}/${fileName}`
    const name = socketBaseName(fileName)
    if (name === null) {
      report(relativePath, 'name is not <name>.sock with [A-Za-z0-9._-], or is deeper than two levels')
      continue
    }
    const socket = await socketAt(dir, relativePath, service, name, report)
    if (socket !== null) found.push(socket)
  }
  return found
}

/**
 * One full scan of the socket directory: `DIR/<service>/<name>.sock` and
 * `DIR/<service>.sock`. Only real sockets count; everything else is reported
 * and ignored. A missing directory is an empty snapshot, not an error.
 */
export async function scanSockets (dir: string, report: IgnoredEntryReporter = () => {}): Promise<SocketSnapshot> {
  const sockets: DiscoveredSocket[] = []
  const serviceDirs: string[] = []
  for (const entry of (await listOrEmpty(dir)).sort()) {
    const flat = socketBaseName(entry)
    if (flat !== null) {
      const socket = await socketAt(dir, entry, flat, null, report)
      if (socket !== null) sockets.push(socket)
      continue
    }
    if (!VALID_NAME.test(entry)) {
      report(entry, 'name outside [A-Za-z0-9._-] or starting with "."')
      continue
    }
    const stats = await statOrNull(join(dir, entry))
    if (stats === null) continue
    if (!stats.isDirectory()) {
      report(entry, 'not a socket or a service directory')
      continue
    }
    serviceDirs.push(join(dir, entry))
    sockets.push(...await scanServiceDir(dir, entry, report))
  }
  return { dir, sockets, serviceDirs }
}
