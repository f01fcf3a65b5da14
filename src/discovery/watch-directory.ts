import { watch, type FSWatcher } from 'chokidar'

export interface DirectoryWatch {
  close (): Promise<void>
}

/**
 * Says only "something changed" under `dir`, never what: the caller rescans
 * the whole directory (the Traefik file-provider model), so a missed or
 * reordered event can never leave a stale route behind.
 */
export async function watchDirectory (dir: string, depth: number, onChange: () => void, onError: (err: unknown) => void): Promise<DirectoryWatch> {
  const watcher: FSWatcher = watch(dir, {
    depth,
    ignoreInitial: true,
    // chokidar's atomic mode holds unlink events back for 100 ms to merge them
    // with a re-add; we rescan anyway, and issue #2 wants removals fast.
    atomic: false,
    persistent: true
  })
  watcher.on('all', () => onChange())
  watcher.on('error', onError)
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  return { close: async () => await watcher.close() }
}
