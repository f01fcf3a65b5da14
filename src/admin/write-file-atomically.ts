import { randomBytes } from 'node:crypto'
import { open, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'

/** New route files: they may hold header values such as tokens (`requestHeaders.set`), and only the router reads them. */
const NEW_FILE_MODE = 0o600

/**
 * Writes `name` in `dir` so that a reader (the services.d watcher, a restart)
 * sees the old file or the new one, never half of one (issue #12): a temp
 * file in the same directory (so rename stays on one file system), fsync,
 * rename over the old name, fsync the directory so the rename survives a
 * crash. The temp name starts with a dot: the loader ignores it meanwhile.
 * A file it replaces keeps its mode.
 */
export async function writeFileAtomically (dir: string, name: string, text: string): Promise<void> {
  const target = join(dir, name)
  const temp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const mode = (await stat(target).catch(() => null))?.mode ?? NEW_FILE_MODE
  const file = await open(temp, 'wx', mode & 0o777)
  try {
    await file.writeFile(text, 'utf8')
    await file.chmod(mode & 0o777)
    await file.sync()
  } catch (err) {
    await file.close()
    await unlink(temp).catch(() => {})
    throw err
  }
  await file.close()
  try {
    await rename(temp, target)
  } catch (err) {
    await unlink(temp).catch(() => {})
    throw err
  }
  await syncDir(dir)
}

async function syncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null)
  if (handle === null) return
  try {
    await handle.sync()
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is done.
  } finally {
    await handle.close()
  }
}
