import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'

interface Teardown { teardown (fn: () => unknown): void }

/**
 * A short temp dir: unix socket paths are capped near 107 bytes, so this
 * lives directly under /tmp rather than under tap's fixture dir.
 */
export function makeTempDir (t: Teardown): string {
  const dir = mkdtempSync(join('/tmp', 'sr-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
