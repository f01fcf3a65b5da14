import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

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
