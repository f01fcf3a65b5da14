import { join, resolve } from 'node:path'
import { watch, type FSWatcher } from 'chokidar'

/** Called with the full path of what changed, when chokidar knows it. */
export type ChangeListener = (changedPath: string | undefined) => void

export interface DirectoryWatch {
  /** Makes the watched set exactly `dirs`. Resolves once the new watches are in place. */
  set (dirs: Iterable<string>): Promise<void>
  close (): Promise<void>
}

async function startWatcher (dirs: readonly string[], onChange: ChangeListener, onError: (err: unknown) => void): Promise<FSWatcher | null> {
  if (dirs.length === 0) return null
  const watcher = watch([...dirs], {
    // One level only: the caller lists every directory it cares about.
    depth: 0,
    ignoreInitial: true,
    // chokidar's atomic mode holds unlink events back for 100 ms to merge them
    // with a re-add; we rescan anyway, and issue #2 wants removals fast.
    atomic: false,
    persistent: true
  })
  // `raw` comes straight from fs.watch. chokidar's own events are filtered
  // through its state and a 1 s readdir throttle, and lost a socket re-created
  // within that window; a full rescan makes every extra signal harmless.
  watcher.on('raw', (_event, entry: string | undefined, details) => {
    const watchedPath = (details as { watchedPath?: string } | undefined)?.watchedPath
    onChange(watchedPath === undefined ? undefined : entry === undefined || entry === '' ? resolve(watchedPath) : resolve(join(watchedPath, entry)))
  })
  watcher.on('all', (_event: string, path: string) => onChange(resolve(path)))
  watcher.on('error', onError)
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  return watcher
}

/**
 * Says only "something changed", never what: the caller rescans everything
 * (the Traefik file-provider model), so a missed or reordered event can never
 * leave a stale route behind. A new set gets a new chokidar instance rather
 * than add/unwatch: chokidar's unwatch of a directory also ignores everything
 * below it from then on, which would blind us to a child directory we watch
 * next.
 */
export async function watchDirectories (dirs: readonly string[], onChange: ChangeListener, onError: (err: unknown) => void): Promise<DirectoryWatch> {
  let watched = [...new Set(dirs)].sort()
  let watcher = await startWatcher(watched, onChange, onError)
  return {
    async set (next) {
      const wanted = [...new Set(next)].sort()
      if (wanted.join('\0') === watched.join('\0')) return
      const old = watcher
      watched = wanted
      watcher = await startWatcher(wanted, onChange, onError)
      await old?.close()
    },
    close: async () => { await watcher?.close() }
  }
}
