import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBackend } from './backend.js'
import { makeTempDir } from './temp-dir.js'

/**
 * Writes a route file the way an editor saving atomically does: a temp file
 * renamed into place, so the watcher never reads half a file.
 */
export function writeRouteFile (servicesDir: string, name: string, text: string): void {
  mkdirSync(servicesDir, { recursive: true })
  const temp = join(servicesDir, `.${name}.tmp`)
  writeFileSync(temp, text)
  renameSync(temp, join(servicesDir, name))
}

/** A temp root with a services dir whose one file, good.yaml, routes /good to a real backend. */
export async function servicesDirWithGoodRoute (t: Parameters<typeof makeTempDir>[0]): Promise<{ root: string, servicesDir: string }> {
  const root = makeTempDir(t)
  const servicesDir = join(root, 'services.d')
  const goodSock = join(root, 'b', 'good.sock')
  await startBackend(t, goodSock)
  writeRouteFile(servicesDir, 'good.yaml', `routes:\n  - prefix: /good\n    socket: ${goodSock}\n`)
  return { root, servicesDir }
}
